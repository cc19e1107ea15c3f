"""Settings, read once: command-line flags over FAIR_* environment variables over defaults.

The defaults run the demo fair on SQLite in ``data/`` with nothing else to
install.  PostgreSQL is chosen by the database URL alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.config import Config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///{DATA / 'fair.db'}"
    host: str = "127.0.0.1"
    port: int = 8000
    demo: Path = DATA / "demo"  # the demo fair loaded into an empty database

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        config = Config(env_prefix="FAIR_") if environ is None else Config(environ=environ, env_prefix="FAIR_")
        defaults = cls()
        settings = cls(
            database_url=config("DATABASE_URL", default=defaults.database_url),
            host=config("HOST", default=defaults.host),
            port=config("PORT", cast=int, default=defaults.port),
            demo=config("DEMO", cast=Path, default=defaults.demo),
        )
        return replace(settings, **{key: value for key, value in overrides.items() if value is not None})
