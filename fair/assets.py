"""The screens' static files, cached as long as they can be, and the service worker that keeps them offline.

- ``/static/vendor/`` holds third-party files (socket.io-client), always
  linked with their content's hash in the URL (``asset_url``): a browser
  keeps them for a year without asking again, and a new version is a new URL.
- The fair's own scripts and stylesheet import one another by plain relative
  URLs, so they are revalidated on every load (``no-cache``: a 304 when
  unchanged, which the ETag makes cheap).
- ``/sw.js`` is the service worker (``static/js/sw.js``), served from the
  root so that it may keep the screens' pages for a reload without network.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from fair.settings import ROOT

YEAR = 365 * 86400


class Assets(StaticFiles):
    """Static files with the cache headers their kind allows."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            vendor = Path(self.directory).name == "vendor"
            response.headers["cache-control"] = f"public, max-age={YEAR}, immutable" if vendor else "no-cache"
        return response


@cache
def asset_url(path: str) -> str:
    """``/static/<path>`` with the hash of its content, for a file that may be cached for good."""
    digest = hashlib.sha256((ROOT / "static" / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


async def service_worker(request: Request) -> Response:
    response = FileResponse(ROOT / "static" / "js" / "sw.js", media_type="text/javascript")
    response.headers["cache-control"] = "no-cache"
    response.headers["service-worker-allowed"] = "/"
    return response
