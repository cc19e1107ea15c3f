#!/usr/bin/env python3
"""The fair's command line: serve the fair, or reset the demo.

    python run.py                 serve (the default command)
    python run.py reset-demo      drop every table of the database and load the demo fair afresh
    python run.py play-demo       place orders in the demo fair, as tablets and booths would, for the board to move
    python run.py export-ocds     write the fair's orders as an OCDS 1.1.5 release package (JSON) to standard output
    python run.py backup FILE     copy the database to FILE while the fair serves (docs/deploy.md says how to restore)

Flags override the FAIR_* environment variables, which override the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from dataclasses import replace
from pathlib import Path

from fair.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.py", description="Nanjing's public-culture procurement fair.")
    _add_flags(parser, default=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # The flags are accepted after the command too; SUPPRESS keeps a missing one from hiding the top-level value.
    _add_flags(commands.add_parser("serve", help="serve the fair (the default command)"), default=argparse.SUPPRESS)
    _add_flags(
        commands.add_parser(
            "reset-demo", help="drop every table of the database (organiser account included) and load the demo again"
        ),
        default=argparse.SUPPRESS,
    )
    play = commands.add_parser("play-demo", help="place orders in the demo fair, as tablets and booths would")
    _add_flags(play, default=argparse.SUPPRESS)
    play.add_argument("--performances", type=int, default=20, help="performance orders to place (default 20)")
    play.add_argument("--trainings", type=int, default=15, help="training, lecture and exhibition orders (default 15)")
    play.add_argument("--books", type=int, default=2000, help="volumes of books (default 2000)")
    play.add_argument("--pace", type=float, default=0.5, help="seconds between two orders (default 0.5)")
    play.add_argument("--seed", type=int, default=None, help="for the same choices again")
    _add_flags(
        commands.add_parser(
            "export-ocds", help="write the fair's orders as an OCDS release package to standard output"
        ),
        default=argparse.SUPPRESS,
    )
    saving = commands.add_parser("backup", help="copy the database to a file while the fair serves")
    _add_flags(saving, default=argparse.SUPPRESS)
    saving.add_argument("file", type=Path, help="the copy to write (a SQLite database, or a pg_dump archive)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.load(
            database_url=args.database_url,
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            workers=args.workers,
        )
        if getattr(args, "hall", False):
            settings = for_the_hall(settings)
    except SettingsError as error:
        print(f"run.py: {error}", file=sys.stderr)
        return 2
    if args.command == "reset-demo":
        return asyncio.run(reset_demo(settings))
    if args.command == "play-demo":
        return asyncio.run(play_demo(settings, args))
    if args.command == "export-ocds":
        return asyncio.run(export_ocds(settings))
    if args.command == "backup":
        return backup(settings, args.file)
    return serve_fair(settings)


def _add_flags(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--database-url", default=default, help="SQLAlchemy URL (env FAIR_DATABASE_URL)")
    parser.add_argument("--host", default=default, help="address to listen on (env FAIR_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default, help="port to listen on (env FAIR_PORT, default 8000)")
    parser.add_argument(
        "--public-url", default=default, help="the address tablets use, printed on the cards (env FAIR_PUBLIC_URL)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default,
        help="worker processes (env FAIR_WORKERS, default 1); several need PostgreSQL and FAIR_REDIS_URL",
    )
    parser.add_argument(
        "--hall",
        action="store_true",
        default=default if default is argparse.SUPPRESS else False,
        help="serve the hall's network: listen on every address, and print this computer's on the cards",
    )


NO_NETWORK = (
    "--hall: this computer has no address on a network (no Wi-Fi or cable connected?), so the cards would point "
    "at 127.0.0.1, which no tablet can reach. Connect to the hall's network and start again, or give the address "
    "the tablets will use with FAIR_PUBLIC_URL."
)


def for_the_hall(settings: Settings, address: str | None = None) -> Settings:
    """Listen on every address, and give the cards this computer's address on its network (unless given).

    With no network address to give, it says so on the terminal rather than print cards nobody can use."""
    host = "0.0.0.0" if settings.host == "127.0.0.1" else settings.host
    if settings.public_url:
        return replace(settings, host=host)
    address = address or network_address()
    if address.startswith("127."):
        print(NO_NETWORK, file=sys.stderr)
    return replace(settings, host=host, public_url=f"http://{address}:{settings.port}")


def network_address() -> str:
    """This computer's address on the network it reaches others by (no packet is sent: UDP only picks a route)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def serve_fair(settings: Settings) -> int:
    import uvicorn

    from fair.app import create_app
    from fair.middleware import uvicorn_options

    if settings.workers > 1:
        return serve_workers(settings)
    app = create_app(settings)  # decides which fenced paths run (fair.fence), before the options that follow it
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", **uvicorn_options())
    _announced_server()(config, settings).run()
    return 0


def serve_workers(settings: Settings) -> int:
    """Several worker processes on one port (docs/deploy.md): uvicorn starts them, and starts a new one for
    any that dies; each builds the application from the environment (``fair.app.from_environment``), which
    the flags are written into here."""
    import os

    import uvicorn

    from fair import fence
    from fair.middleware import uvicorn_options

    fence.configure(settings.fenced_paths)  # as each worker's create_app will: the websocket protocol follows it
    settings.secret()  # made here once, for every worker to read, when FAIR_SECRET_KEY is not set
    os.environ.update(
        {"FAIR_DATABASE_URL": settings.database_url, "FAIR_HOST": settings.host, "FAIR_PORT": str(settings.port)}
    )
    if settings.public_url:
        os.environ["FAIR_PUBLIC_URL"] = settings.public_url
    announce(settings)
    print(f"Starting {settings.workers} workers (each says when it is ready).", flush=True)
    uvicorn.run(
        "fair.app:from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
        **uvicorn_options(),
    )
    return 0


def _announced_server():
    import uvicorn

    class Announced(uvicorn.Server):
        """uvicorn, saying where the fair is once it really listens (the demo may take seconds to load first)."""

        def __init__(self, config, settings: Settings) -> None:
            super().__init__(config)
            self.settings = settings

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                announce(self.settings)

    return Announced


def announce(settings: Settings) -> None:
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    print(f"\nThe fair is served at {base}  ({settings.database_url})", flush=True)
    for path, what in (("/board", "the board"), ("/console", "the organiser's console"), ("/wishes", "residents")):
        print(f"    {base}{path:10} {what}", flush=True)
    if settings.host.startswith("127.") or settings.host in ("localhost", "::1"):
        print(
            "Only this computer can reach it. To serve a hall of tablets on this network: python run.py --hall",
            flush=True,
        )
    elif settings.public_url is None:
        print("The cards will print the address each page was opened at: set --public-url to be sure.", flush=True)


def backup(settings: Settings, file: Path) -> int:
    import subprocess

    from fair.backup import backup as copy

    try:
        copy(settings.database_url, file)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"run.py backup: {error}", file=sys.stderr)
        return 1
    print(f"The database was copied to {file} ({file.stat().st_size:,} bytes).")
    return 0


async def reset_demo(settings: Settings) -> int:
    from fair import demo, migrate
    from fair.db import Database

    db = Database(settings.database_url)
    try:
        await migrate.downgrade(db, "base")
        await migrate.upgrade(db)
        fair_id = await demo.load(db, settings.demo)
    finally:
        await db.dispose()
    print(f"The demo fair was loaded afresh as fair {fair_id} ({settings.database_url}).")
    return 0


async def export_ocds(settings: Settings) -> int:
    import json

    from fair import demo
    from fair.core import Actor, ocds
    from fair.db import Database

    db = Database(settings.database_url)
    try:
        fair_id = await demo.current_fair_id(db)
        if fair_id is None:
            print("There is no fair yet: start the server once (python run.py) to load the demo.", file=sys.stderr)
            return 1
        base = settings.public_url or f"http://{settings.host}:{settings.port}"
        async with db.read() as session:
            package = await ocds.release_package(session, Actor.organiser(fair_id), base.rstrip("/"))
    finally:
        await db.dispose()
    json.dump(package, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


async def play_demo(settings: Settings, args: argparse.Namespace) -> int:
    import random

    from fair import demo
    from fair.db import Database

    db = Database(settings.database_url)
    try:
        fair_id = await demo.current_fair_id(db)
        if fair_id is None:
            print("There is no fair yet: start the server once (python run.py) to load the demo.")
            return 1
        targets = {
            "performance_orders": args.performances,
            "training_lecture_exhibition_orders": args.trainings,
            "book_volumes": args.books,
        }
        seed = args.seed if args.seed is not None else random.randrange(10**6)
        played = await demo.play(db, fair_id, targets, seed=seed, pace=args.pace)
    finally:
        await db.dispose()
    print(f"Placed {played.headline} (seed {seed}); {len(played.ran_out)} teams ran out of budget.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
