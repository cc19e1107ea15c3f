"""Settings, read once: command-line flags over FAIR_* environment variables over defaults.

The defaults run the demo fair on SQLite in ``data/`` with nothing else to
install.  PostgreSQL is chosen by the database URL alone.  What an operator
sets in the environment is checked here, so that a fair never starts with a
short secret key or a guessable organiser password (``SettingsError``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from starlette.config import Config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MIN_SECRET_KEY = 32  # characters of FAIR_SECRET_KEY: the installation's one secret, every key is derived from it
MIN_PASSWORD = 12  # characters of a configured organiser password


class SettingsError(ValueError):
    """A setting an operator gave that the fair refuses to start with."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///{DATA / 'fair.db'}"
    # The longest the fair waits for the database (a lock, a slow disk, a lost server) before answering
    # `unavailable` instead (fair.db): shorter than the screens' own 10 s wait for an answer.
    database_timeout_ms: int = 4000
    host: str = "127.0.0.1"
    port: int = 8000
    demo: Path | None = DATA / "demo"  # the demo fair loaded into an empty database; None for none
    photos: Path = DATA / "photos"  # the venues' photos at check-in
    secret_key: str | None = None  # every key is derived from it; by default kept in data/secret.key
    organiser_password: str | None = None  # for the first organiser account; by default generated, changed at sign-in
    live_interval_ms: int = 100  # the least time between two live messages to a screen while the hall is busy
    command_rate: float = 10.0  # events a second one device, organiser session or public address may send ...
    command_burst: int = 30  # ... and at once
    # Where the fair is reached: the URL the tablets use (printed on the cards), and more origins allowed to connect.
    public_url: str | None = None
    extra_origins: tuple[str, ...] = ()
    # TLS and proxies: the addresses of reverse proxies whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False  # force Secure cookies (they are Secure anyway on a request that came over HTTPS)
    hsts_seconds: int = 31_536_000  # Strict-Transport-Security on HTTPS responses; 0 for none
    # Cards and devices (fair.core.access).
    card_hours_after_close: float = 24.0  # a card enrols and admits devices until this long after the fair closes
    device_session_hours: float = 7 * 24.0  # a device stays signed in this long at most
    # Limits per address (fair.limits), generous: a whole hall may sit behind one address.
    address_rate: float = 100.0  # events a second from one address, on average ...
    address_burst: int = 300  # ... and at once
    connections_per_address: int = 300  # sockets open at once from one address
    connect_rate: float = 10.0  # new sockets a second from one address ...
    connect_burst: int = 200  # ... and at once (a hall reconnecting after a Wi-Fi drop)
    # Residents' actions from one address (fair.limits RESIDENT), sized for a venue's Wi-Fi: forty phones behind
    # one address each support a few wishes, take a seat, check in and rate, and confirm their numbers.
    wish_rate: float = 0.5  # wishes and supports a second from one address ...
    wish_burst: int = 120  # ... and at once
    anonymous_rate: float = 1 / 60  # wishes from phones with no confirmed number: one a minute from one address ...
    anonymous_burst: int = 20  # ... and at once
    seat_rate: float = 0.5  # seats taken or given back a second ...
    seat_burst: int = 80  # ... and at once
    rating_rate: float = 0.5  # check-ins at an event and ratings a second ...
    rating_burst: int = 120  # ... and at once
    code_rate: float = 0.1  # text messages asked for and codes typed back a second (one every ten seconds) ...
    code_burst: int = 80  # ... and at once (each phone asks once and types once)
    # Several workers (docs/deploy.md): each a process serving its own screens, all one fair through PostgreSQL,
    # with Redis for what crosses workers (limits, sign-outs, "a commit was made" nudges).
    workers: int = 1  # processes `run.py` starts; more than one needs PostgreSQL and redis_url
    redis_url: str | None = None  # e.g. redis://127.0.0.1:6379/0; None keeps everything in this process
    redis_prefix: str = "fair"  # of every key and channel, so that several fairs (or tests) may share a Redis
    # Text messages (fair.sms): the operator's SMS service, or a relay to it, that the residents' codes are
    # posted to; None sends nothing and shows the codes in the console (the demo).
    sms_url: str | None = None
    sms_token: str | None = None  # sent as "Authorization: Bearer <token>" with each message
    # The two fast paths that use libraries' private parts (fair.fence): on, they still run only with the library
    # versions they were tested with; off, the live and write paths use the libraries' public APIs only.
    fenced_paths: bool = True

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """The settings of the environment (``os.environ`` by default), checked; ``overrides`` win."""
        config = Config(environ=os.environ if environ is None else environ, env_prefix="FAIR_")
        d = cls()
        settings = cls(
            database_url=config("DATABASE_URL", default=d.database_url),
            database_timeout_ms=config("DATABASE_TIMEOUT_MS", cast=int, default=d.database_timeout_ms),
            host=config("HOST", default=d.host),
            port=config("PORT", cast=int, default=d.port),
            demo=config("DEMO", cast=Path, default=d.demo),
            secret_key=config("SECRET_KEY", default=None),
            organiser_password=config("ORGANISER_PASSWORD", default=None),
            live_interval_ms=config("LIVE_INTERVAL_MS", cast=int, default=d.live_interval_ms),
            command_rate=config("COMMAND_RATE", cast=float, default=d.command_rate),
            command_burst=config("COMMAND_BURST", cast=int, default=d.command_burst),
            public_url=config("PUBLIC_URL", default=None),
            extra_origins=_words(config("EXTRA_ORIGINS", default="")),
            trusted_proxies=_words(config("TRUSTED_PROXIES", default="")),
            secure_cookies=config("SECURE_COOKIES", cast=bool, default=d.secure_cookies),
            hsts_seconds=config("HSTS_SECONDS", cast=int, default=d.hsts_seconds),
            card_hours_after_close=config("CARD_HOURS_AFTER_CLOSE", cast=float, default=d.card_hours_after_close),
            device_session_hours=config("DEVICE_SESSION_HOURS", cast=float, default=d.device_session_hours),
            address_rate=config("ADDRESS_RATE", cast=float, default=d.address_rate),
            address_burst=config("ADDRESS_BURST", cast=int, default=d.address_burst),
            connections_per_address=config("CONNECTIONS_PER_ADDRESS", cast=int, default=d.connections_per_address),
            connect_rate=config("CONNECT_RATE", cast=float, default=d.connect_rate),
            connect_burst=config("CONNECT_BURST", cast=int, default=d.connect_burst),
            wish_rate=config("WISH_RATE", cast=float, default=d.wish_rate),
            wish_burst=config("WISH_BURST", cast=int, default=d.wish_burst),
            anonymous_rate=config("ANONYMOUS_RATE", cast=float, default=d.anonymous_rate),
            anonymous_burst=config("ANONYMOUS_BURST", cast=int, default=d.anonymous_burst),
            seat_rate=config("SEAT_RATE", cast=float, default=d.seat_rate),
            seat_burst=config("SEAT_BURST", cast=int, default=d.seat_burst),
            rating_rate=config("RATING_RATE", cast=float, default=d.rating_rate),
            rating_burst=config("RATING_BURST", cast=int, default=d.rating_burst),
            code_rate=config("CODE_RATE", cast=float, default=d.code_rate),
            code_burst=config("CODE_BURST", cast=int, default=d.code_burst),
            workers=config("WORKERS", cast=int, default=d.workers),
            redis_url=config("REDIS_URL", default=None) or None,
            redis_prefix=config("REDIS_PREFIX", default=d.redis_prefix),
            sms_url=config("SMS_URL", default=None) or None,
            sms_token=config("SMS_TOKEN", default=None) or None,
            fenced_paths=config("FENCED_PATHS", cast=bool, default=d.fenced_paths),
        )
        settings = replace(settings, **{key: value for key, value in overrides.items() if value is not None})
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse what an operator must not run a fair with."""
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_KEY:
            raise SettingsError(
                f"FAIR_SECRET_KEY must be at least {MIN_SECRET_KEY} characters long "
                f"(for instance: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if self.database_timeout_ms < 1:
            raise SettingsError("FAIR_DATABASE_TIMEOUT_MS must be a positive number of milliseconds")
        if self.organiser_password is not None and len(self.organiser_password) < MIN_PASSWORD:
            raise SettingsError(f"FAIR_ORGANISER_PASSWORD must be at least {MIN_PASSWORD} characters long")
        if self.sms_url is not None and origin_of(self.sms_url) is None:
            raise SettingsError(f"FAIR_SMS_URL {self.sms_url!r} is not an http:// or https:// URL")
        for origin in (self.public_url, *self.extra_origins):
            if origin is not None and origin_of(origin) is None:
                raise SettingsError(f"{origin!r} is not an http:// or https:// URL")
        if self.workers < 1:
            raise SettingsError("FAIR_WORKERS must be 1 or more")
        if self.workers > 1 and (self.database_url.startswith("sqlite") or not self.redis_url):
            raise SettingsError(
                "several workers (FAIR_WORKERS) need a PostgreSQL database (FAIR_DATABASE_URL) and Redis "
                "(FAIR_REDIS_URL): each worker's memory is its own"
            )

    def origins(self) -> frozenset[str] | None:
        """The origins a browser may open the fair's sockets from; None for "the one the request came to"."""
        if self.public_url is None and not self.extra_origins:
            return None
        return frozenset(filter(None, (origin_of(url) for url in (self.public_url, *self.extra_origins))))

    @property
    def first_password_file(self) -> Path:
        """Where a generated first organiser password waits to be read: one file per database (a SQLite file's
        folder; data/ for a server's, named after its URL), so that a second database started on this computer
        (a rehearsal, a test) never overwrites the first one's."""
        url = make_url(self.database_url)
        if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
            return Path(url.database).resolve().parent / "organiser-password.txt"  # beside its database
        tag = hashlib.sha256(self.database_url.encode()).hexdigest()[:10]
        return DATA / f"organiser-password-{tag}.txt"

    def secret(self) -> str:
        """The secret key; generated once into data/secret.key so that printed join cards survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = DATA / "secret.key"
        if not path.exists():
            # Several workers starting at once: the first link wins, the others read what it wrote.
            draft = path.with_name(f".secret.key.{os.getpid()}")
            write_private(draft, secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
            draft.unlink()
        return path.read_text().strip()


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, as a browser sends it in ``Origin``; None for anything else,
    a malformed one included (``http://[::1``, a port past 65535): what a client sends must not raise."""
    try:
        parts = urlsplit(url.strip())
        port_number = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = "" if port_number in (None, default) else f":{port_number}"
    return f"{parts.scheme}://{host}{port}"


def _words(value: str) -> tuple[str, ...]:
    return tuple(word for word in (part.strip() for part in value.replace(" ", ",").split(",")) if word)


def private_folder(path: Path) -> Path:
    """A folder only the fair's own user may read (the database, the secret key)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file only the fair's own user may read, in a private folder."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    path.chmod(0o600)
