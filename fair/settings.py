"""Settings, read once: command-line flags over FAIR_* environment variables over defaults.

The defaults run the demo fair on SQLite in ``data/`` with nothing else to
install.  PostgreSQL is chosen by the database URL alone.
"""

from __future__ import annotations

import secrets
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
    demo: Path | None = DATA / "demo"  # the demo fair loaded into an empty database; None for none
    secret_key: str | None = None  # signs join links and sessions; by default kept in data/secret.key
    organiser_password: str | None = None  # for the first organiser account; by default generated and printed
    live_interval_ms: int = 150  # the least time between two live messages to a screen while the hall is busy
    command_rate: float = 10.0  # commands a second one connection may send on average ...
    command_burst: int = 30  # ... and at once

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        config = Config(env_prefix="FAIR_") if environ is None else Config(environ=environ, env_prefix="FAIR_")
        defaults = cls()
        settings = cls(
            database_url=config("DATABASE_URL", default=defaults.database_url),
            host=config("HOST", default=defaults.host),
            port=config("PORT", cast=int, default=defaults.port),
            demo=config("DEMO", cast=Path, default=defaults.demo),
            secret_key=config("SECRET_KEY", default=None),
            organiser_password=config("ORGANISER_PASSWORD", default=None),
            live_interval_ms=config("LIVE_INTERVAL_MS", cast=int, default=defaults.live_interval_ms),
            command_rate=config("COMMAND_RATE", cast=float, default=defaults.command_rate),
            command_burst=config("COMMAND_BURST", cast=int, default=defaults.command_burst),
        )
        return replace(settings, **{key: value for key, value in overrides.items() if value is not None})

    def secret(self) -> str:
        """The secret key; generated once into data/secret.key so that printed join links survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = DATA / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(32))
        return path.read_text().strip()
