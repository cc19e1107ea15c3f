#!/usr/bin/env python3
"""The fair's command line: serve the fair, or reset the demo.

    python run.py                 serve (the default command)
    python run.py reset-demo      drop every table of the database and load the demo fair afresh
    python run.py play-demo       place orders in the demo fair, as tablets and booths would, for the board to move

Flags override the FAIR_* environment variables, which override the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

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
    args = parser.parse_args(argv)
    try:
        settings = Settings.load(database_url=args.database_url, host=args.host, port=args.port)
    except SettingsError as error:
        print(f"run.py: {error}", file=sys.stderr)
        return 2
    if args.command == "reset-demo":
        return asyncio.run(reset_demo(settings))
    if args.command == "play-demo":
        return asyncio.run(play_demo(settings, args))
    return serve_fair(settings)


def _add_flags(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--database-url", default=default, help="SQLAlchemy URL (env FAIR_DATABASE_URL)")
    parser.add_argument("--host", default=default, help="address to listen on (env FAIR_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default, help="port to listen on (env FAIR_PORT, default 8000)")


def serve_fair(settings: Settings) -> int:
    import uvicorn

    from fair.app import create_app
    from fair.middleware import UVICORN_OPTIONS

    print(f"Serving the fair at http://{settings.host}:{settings.port}  ({settings.database_url})", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", **UVICORN_OPTIONS)
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
