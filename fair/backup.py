"""A copy of the fair's database, taken while it serves (``python run.py backup FILE``).

- **SQLite**: the online backup API (``sqlite3.Connection.backup``) copies
  the pages in one step, from one read snapshot: in WAL mode the writers go
  on meanwhile, and the copy is a database as of one commit, never a file
  copied half before and half after a write (which ``cp`` can give).
- **PostgreSQL**: ``pg_dump --format=custom``, one transaction's snapshot,
  restored with ``pg_restore`` (docs/deploy.md).  The URL's password, if it
  has one, goes to pg_dump in its environment, not on its command line.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


def backup(database_url: str, target: Path) -> None:
    """Write a consistent copy of the database at ``database_url`` to ``target`` (which must not exist)."""
    url = make_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and not Path(url.database).exists():
        raise FileNotFoundError(f"no database at {url.database}")
    # Made empty first: a backup never overwrites, and the copy is as private as the database.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        if sqlite:
            _sqlite(Path(url.database), target)
        else:
            _postgres(url, target)
    except BaseException:
        target.unlink()
        raise


def _sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    live.close()
    copy.close()


def _postgres(url, target: Path) -> None:
    environment = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", f"--dbname={plain}"],
        env=environment,
        check=True,
    )
