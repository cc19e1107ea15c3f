"""The fence around the two places the fair reaches into libraries' private parts, and the switch that opens it.

Everything else uses only what its libraries document.  Two fast paths stay
private because a target needs them (issue 23; docs/performance.md, "Public
APIs and the fence"):

- ``live`` (``fair.live.websocket``): a screen's websocket written to
  directly, one frame built once for a whole room; it relies on uvicorn's
  websockets-sansio protocol and on python-engineio's and python-socketio's
  internals.  It roughly halves a board's memory and cuts a broadcast's CPU
  several times.  The public path is python-socketio's own server and room
  ``emit`` over uvicorn's ``websockets-sansio``.
- ``store`` (``fair.direct``): the write path's statements sent straight to
  the driver, compiled once by SQLAlchemy's compiler (its private
  processors) and, on PostgreSQL, through its asyncpg adapter's privates.
  The public path is ``Connection.execute``.

A fenced path runs only when every library it relies on is installed at
exactly the version it was tested with (``TESTED``, the pins of
constraints.txt: tests/test_fence.py checks that they agree, and that the
private names each path uses are still there), and the setting
``FAIR_FENCED_PATHS`` is on (the default).  Otherwise the public path runs,
and one log line says why.  The decision is made once, at start-up
(``configure``, from ``fair.app.create_app`` and ``run.py``); a tool that
never starts the app gets it decided from the environment on first use.

Only the modules in ``FENCED_MODULES`` may touch a library's private names
(tests/test_fence.py greps for them everywhere else).
"""

from __future__ import annotations

import logging
from importlib import metadata

log = logging.getLogger(__name__)

# The versions each fenced path was tested with: constraints.txt's pins (tests/test_fence.py keeps them equal).
TESTED: dict[str, dict[str, str]] = {
    "live": {"uvicorn": "0.55.0", "python-engineio": "4.15.1", "python-socketio": "5.18.1"},
    "store": {"sqlalchemy": "2.1.9", "asyncpg": "0.32.0"},
}
FENCED_MODULES = ("fair/live/websocket.py", "fair/direct.py")  # the only modules that use a private name

_state: dict[str, bool] | None = None  # which fenced paths run, once decided


def installed(distribution: str) -> str | None:
    """The installed version of ``distribution``, None if it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def differences() -> dict[str, list[str]]:
    """For each fenced path, its libraries whose installed version is not the one it was tested with."""
    return {
        path: [
            f"{name} {installed(name) or 'absent'} (tested with {version})"
            for name, version in pins.items()
            if installed(name) != version
        ]
        for path, pins in TESTED.items()
    }


def configure(enabled: bool) -> dict[str, bool]:
    """Decide which fenced paths run: those whose libraries are the tested versions, if ``enabled`` (the
    setting).  Says so in one log line when that leaves a path on its public fallback; returns the decision."""
    global _state
    differ = differences()
    state = {path: enabled and not differ[path] for path in TESTED}
    if state != _state:
        if not enabled:
            log.info("FAIR_FENCED_PATHS is off: the live and write paths use their libraries' public APIs only")
        elif not all(state.values()):
            log.warning(
                "fenced paths off, public fallbacks used (installed versions differ from those tested): %s",
                "; ".join(f"{path}: {', '.join(differ[path])}" for path in TESTED if differ[path]),
            )
    _state = state
    return state


def active(path: str) -> bool:
    """Whether the fenced ``path`` ("live" or "store") runs."""
    if _state is None:
        from fair.settings import Settings

        configure(Settings.load().fenced_paths)
    return _state[path]
