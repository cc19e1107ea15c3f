// The service worker: the screens' pages and files, kept for a reload without network.
//
// A tablet in a hall whose Wi-Fi drops must still open its screen: the page, its scripts and its pending
// actions (kept in the browser's storage) come back, and it reconnects by itself when the network does.
// Pages and files are fetched from the network first, so nothing stale is shown while it is there;
// the cache answers only when the network does not.  The live data never goes through here: it comes
// over the socket, from the server's own state.
const CACHE = "fair-shell";
const PAGES = new Set(["/tablet", "/booth", "/board", "/console", "/wishes"]);

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const kept = event.request.method === "GET" && url.origin === self.location.origin
    && (PAGES.has(url.pathname) || url.pathname.startsWith("/static/"));
  if (!kept) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) await cache.put(event.request, response.clone());
      return response;
    } catch (offline) {
      const kept = await cache.match(event.request);
      if (kept) return kept;
      throw offline;
    }
  })());
});
