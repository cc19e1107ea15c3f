#!/usr/bin/env python3
"""What an idle board costs the server's memory, by the library that allocated it (tracemalloc).

    python scripts/bench_memory.py [BOARDS]     (300 by default)

Serves the bench's fair (``scripts/bench``) with uvicorn in this process, as
``run.py`` does, connects BOARDS boards from ``scripts/bench_clients.py`` (each
syncs and joins its rooms), and compares two tracemalloc snapshots: before
and after they joined.  Each allocation still alive is charged to the
innermost frame of the fair, uvicorn, ``websockets``, Engine.IO or
Socket.IO that made it (``other``: the event loop and the standard library),
and printed per board.  ``scripts/bench`` gives the same cost by the
process's resident memory; this says where it is.
"""

import asyncio
import gc
import importlib.machinery
import os
import socket
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
bench = importlib.machinery.SourceFileLoader("bench", str(ROOT / "scripts" / "bench")).load_module()

OWNERS = ("fair/", "uvicorn", "websockets", "engineio", "socketio")
DEPTH = 30  # frames kept per allocation: enough to reach from the event loop into the library that allocated


def owner(traceback: tracemalloc.Traceback) -> str:
    for frame in reversed(traceback):  # innermost first
        for name in OWNERS:
            if f"/{name}" in frame.filename:
                return name.rstrip("/")
    return "other"


async def boards(url: str, count: int, folder: Path) -> asyncio.subprocess.Process:
    clients = ROOT / "scripts" / "bench_clients.py"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(clients),
        "listen",
        url,
        "app",
        str(count),
        str(folder / f"{count}.json"),
        stdout=subprocess.PIPE,
    )
    while b"ready" not in await process.stdout.readline():
        pass
    return process


async def main(count: int) -> None:
    import uvicorn

    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'app.db'}"
    await bench.bench_fair(url)
    os.environ.update(
        {"FAIR_DATABASE_URL": url, "FAIR_SECRET_KEY": bench.SECRET, "FAIR_ORGANISER_PASSWORD": "bench organiser"}
    )
    os.environ.update(bench.UNLIMITED)
    from fair.app import from_environment
    from fair.middleware import uvicorn_options

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    address = f"http://127.0.0.1:{listener.getsockname()[1]}"
    app = from_environment()  # decides the fenced paths (FAIR_FENCED_PATHS), and so the websocket protocol
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **uvicorn_options()))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.05)
    started = [await boards(address, 20, folder)]  # first connections warm every cache and start every task
    try:
        await asyncio.sleep(2)
        tracemalloc.start(DEPTH)
        gc.collect()
        before = tracemalloc.take_snapshot()
        started.append(await boards(address, count, folder))
        await asyncio.sleep(3)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        owners: dict[str, int] = {}
        for stat in after.compare_to(before, "traceback"):
            owners[owner(stat.traceback)] = owners.get(owner(stat.traceback), 0) + stat.size_diff
        print(f"{count} idle boards, bytes per board by the library that allocated them (tracemalloc):")
        for name, size in sorted(owners.items(), key=lambda item: -item[1]):
            print(f"  {name:12} {size / count:8.0f}")
        print(f"  {'all':12} {sum(owners.values()) / count:8.0f}")
    finally:
        for process in started:
            process.terminate()
            await process.wait()
        server.should_exit = True
        await serving


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
