"""A real uvicorn server on loopback, inside the test's own event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from fair.middleware import uvicorn_options


@asynccontextmanager
async def serving(app, address: str = "127.0.0.1", **options) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of ``address`` (loopback unless a test says) until the block ends; yields its URL.

    uvicorn runs as ``run.py`` runs it (``uvicorn_options()``); ``options`` override its other settings.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, 0))
    port = listener.getsockname()[1]
    settings = {"lifespan": "on", "log_level": "warning", "loop": "asyncio", **uvicorn_options(), **options}
    config = uvicorn.Config(app, **settings)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()  # startup failed: raise its error here
            await asyncio.sleep(0.01)
        yield f"http://{address}:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()
