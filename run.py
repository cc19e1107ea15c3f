#!/usr/bin/env python3
"""The fair's command line: serve the fair, or reset the demo.

    python run.py                 serve (the default command)
    python run.py reset-demo      delete the SQLite demo database and load the demo fair afresh

Flags override the FAIR_* environment variables, which override the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from fair.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.py", description="Nanjing's public-culture procurement fair.")
    _add_flags(parser, default=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # The flags are accepted after the command too; SUPPRESS keeps a missing one from hiding the top-level value.
    _add_flags(commands.add_parser("serve", help="serve the fair (the default command)"), default=argparse.SUPPRESS)
    _add_flags(
        commands.add_parser("reset-demo", help="drop every table and load the demo fair again"),
        default=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    settings = Settings.load(database_url=args.database_url, host=args.host, port=args.port)
    if args.command == "reset-demo":
        return asyncio.run(reset_demo(settings))
    return serve_fair(settings)


def _add_flags(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--database-url", default=default, help="SQLAlchemy URL (env FAIR_DATABASE_URL)")
    parser.add_argument("--host", default=default, help="address to listen on (env FAIR_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default, help="port to listen on (env FAIR_PORT, default 8000)")


def serve_fair(settings: Settings) -> int:
    import uvicorn

    from fair.app import create_app

    print(f"Serving the fair at http://{settings.host}:{settings.port}  ({settings.database_url})", flush=True)
    # websockets-sansio (and uvloop, which uvicorn picks when installed) measured fastest for broadcasts here.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, ws="websockets-sansio", log_level="info")
    return 0


async def reset_demo(settings: Settings) -> int:
    from fair import demo, migrate
    from fair.db import Database

    db = Database(settings.database_url)
    try:
        await migrate.downgrade_all(db)
        await migrate.upgrade(db)
        fair_id = await demo.load(db, settings.demo)
    finally:
        await db.dispose()
    print(f"The demo fair was loaded afresh as fair {fair_id} ({settings.database_url}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
