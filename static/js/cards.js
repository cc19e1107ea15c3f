// The join cards' sheet: its one button prints it (a script, not an inline handler, for the CSP).
document.getElementById("print").addEventListener("click", () => window.print());
