"""Limits: what one client may cost the fair, all in one place, and why.

The hall shares its Wi-Fi with hundreds of strangers and the board is public
on the internet, so one laptop must not be able to slow the hall down.  What
a client can make the server do is bounded here, before the work is done:

- **Events over Socket.IO** (commands, ``sync``, unknown names alike) draw
  from two token buckets: the sender's and its address's.  A device's or an
  organiser's bucket belongs to its session and outlives its connections, so
  reconnecting refills nothing; a public board has no session and draws on a
  bucket of its own connection, and its address's bucket and connection
  quota bound what one address may do however many boards it opens.
- **sync** draws from a small bucket of its own as well: it is the one read
  that costs milliseconds (a view, or hundreds of events); so do the other
  reads (recommendations, coverage), from the same bucket.
- **Residents** (``resident``): what a resident does draws from a bucket per
  address and kind, each its own setting: wishes and supports (``wish``),
  seats (``seat``), ratings and check-ins at an event (``rating``), and
  codes sent to phones (``code``).  One person counts once because the core
  counts confirmed phones (``fair.core.residents``), not because of these;
  wishes from phones with no confirmed number draw on a smaller bucket of
  their own (``anonymous``), since fresh cookies cost a flooder nothing;
  they only keep one address from flooding the moderators or the text
  gateway, so they are sized for a venue's Wi-Fi with forty phones behind
  one address.  With Redis they are ``strict``: refused while Redis is away.
- **Connections:** a rate of new ones per address (checked on the handshake,
  before Engine.IO makes a session), and how many may be open at once, per
  address and per session (a card's device, an organiser's sign-in).
  Defaults are generous: a whole hall may sit behind one address.  A
  connection that goes on sending while it is told to wait is closed.
- **Signing in:** after a few failures an address, and a username, wait
  longer and longer before the next try (an address typing wrong join codes
  too); and at most ``VERIFYING`` argon2
  verifications (64 MiB and tens of milliseconds of a core each) run at once,
  with a short queue behind them.
- **Sizes:** a Socket.IO message (``MAX_MESSAGE_BYTES``), its nesting on the
  wire (``MAX_WIRE_DEPTH``, checked on the text before it is decoded), an
  envelope (``MAX_NODES``, ``MAX_CHARS``, ``MAX_DEPTH``) and an HTTP body
  (``MAX_BODY_BYTES``).

The counters live behind ``Store``, five small operations.  ``MemoryStore``
keeps them in this process, which is right for one worker; with several
workers ``fair.shared_limits.RedisStore`` implements the same operations in
Redis (``FAIR_REDIS_URL``) and nothing else changes.  The argon2 queue stays
per worker: it shares out a worker's cores, not an address's allowance.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

# Sizes.  The largest real envelope (an offering with 366 dates, 2,000 characters of description and
# every other field full, JSON-escaped as the Python client sends it) is about 20 KB.
MAX_MESSAGE_BYTES = 64 * 1024  # one Socket.IO message; beyond it the connection is dropped unread
MAX_BODY_BYTES = 16 * 1024  # one HTTP request body (sign-in, sign-out, joining); beyond it 413, unread
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # an organiser's spreadsheet to import (/import/…): 2,000 rows fit well
MAX_NODES = 2_000  # values in one envelope, all levels together
MAX_CHARS = 20_000  # characters of text in one envelope
MAX_DEPTH = 8  # levels of objects and lists in one envelope
MAX_WIRE_DEPTH = MAX_DEPTH + 2  # levels in a whole frame (the event's array around the envelope, and some slack)

SESSION_CONNECTIONS = 20  # sockets one device session or sign-in may have open at once (a few tabs, reconnects)
# What residents do, by the kind of limit it draws on (``Limits.resident``); the settings are ``<kind>_rate/_burst``.
RESIDENT = {
    "wish.submit": "wish",
    "wish.support": "wish",
    "signup.take": "seat",
    "signup.cancel": "seat",
    "rating.submit": "rating",
    "presence.check_in": "rating",
    "resident.ask_code": "code",
    "resident.confirm": "code",
}
# A wish from a phone with no confirmed number is nobody's in particular: fresh cookies cost nothing, so one
# address may send only a few (then one a minute), where confirmed residents share the ``wish`` allowance.
ANONYMOUS_WISH = "anonymous"
RESIDENT_KINDS = frozenset(RESIDENT.values()) | {ANONYMOUS_WISH}


def resident_kind(command: str, confirmed: bool) -> str | None:
    """The residents' limit a command draws on (None: not a resident's command)."""
    if command == "wish.submit" and not confirmed:
        return ANONYMOUS_WISH
    return RESIDENT.get(command)
VERIFYING = 2  # argon2 verifications at once
VERIFY_QUEUE = 8  # sign-ins waiting for one; more are refused at once


class Store(Protocol):
    """Where the counters live: this process's memory, or one store shared by several workers."""

    async def take(self, key: str, rate: float, burst: float, now: float, *, strict: bool = False) -> bool:
        """Take one token from the bucket ``key`` (``rate`` a second, ``burst`` at most); False if empty.

        ``strict``: a shared store that cannot be asked refuses rather than counting in one worker."""

    async def take_each(self, buckets: list[tuple[str, float, float]], now: float) -> list[bool]:
        """``take`` from each of ``buckets`` (key, rate, burst), in one go: one round trip to a shared store."""

    async def acquire(self, key: str, cap: int) -> bool:
        """Count one more of ``key`` unless there are ``cap`` already."""

    async def release(self, key: str) -> None:
        """Count one fewer of ``key``."""

    async def failures(self, key: str, now: float, *, add: bool = False, clear: bool = False) -> tuple[int, float]:
        """The failures counted under ``key`` and when the last was; ``add`` one, or ``clear`` them."""


@dataclass
class MemoryStore:
    """The counters of one process.  Idle entries are forgotten, so strangers cost no memory for long."""

    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, when)
    counts: dict[str, int] = field(default_factory=dict)
    failed: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (failures, last)
    forget_after: float = 3600.0
    _sweep_at: int = 10_000

    async def take(self, key: str, rate: float, burst: float, now: float, *, strict: bool = False) -> bool:
        tokens, when = self.buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - when) * rate)
        taken = tokens >= 1
        self.buckets[key] = (tokens - 1 if taken else tokens, now)
        if len(self.buckets) > self._sweep_at:
            self._sweep(now)
        return taken

    async def take_each(self, buckets: list[tuple[str, float, float]], now: float) -> list[bool]:
        return [await self.take(key, rate, burst, now) for key, rate, burst in buckets]

    async def acquire(self, key: str, cap: int) -> bool:
        count = self.counts.get(key, 0)
        if count >= cap:
            return False
        self.counts[key] = count + 1
        return True

    async def release(self, key: str) -> None:
        count = self.counts.get(key, 0) - 1
        if count > 0:
            self.counts[key] = count
        else:
            self.counts.pop(key, None)

    async def failures(self, key: str, now: float, *, add: bool = False, clear: bool = False) -> tuple[int, float]:
        if clear:
            self.failed.pop(key, None)
            return 0, 0.0
        count, last = self.failed.get(key, (0, 0.0))
        if last and now - last > self.forget_after:
            count = 0
        if add:
            count, last = count + 1, now
            self.failed[key] = (count, last)
            if len(self.failed) > self._sweep_at:
                self._sweep(now)
        return count, last

    def _sweep(self, now: float) -> None:
        self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < self.forget_after}
        self.failed = {k: v for k, v in self.failed.items() if now - v[1] < self.forget_after}
        self._sweep_at = max(10_000, 2 * (len(self.buckets) + len(self.failed)))


@dataclass(frozen=True)
class Backoff:
    """After ``free`` failures, wait 2, 4, 8 ... seconds after the last one, ``most`` at most."""

    free: int
    most: float

    def wait(self, failures: int, last: float, now: float) -> float:
        if failures < self.free:
            return 0.0
        return max(0.0, last + min(self.most, 2.0 ** (failures - self.free + 1)) - now)


ADDRESS_BACKOFF = Backoff(free=5, most=900.0)  # a guesser's address: up to a quarter of an hour
USERNAME_BACKOFF = Backoff(free=10, most=60.0)  # the organiser's name: short, so a guesser cannot lock it out for long


class Limits:
    """Every limit of the installation, over one ``Store``; the adapters ask before they work."""

    def __init__(
        self,
        *,
        event_rate: float,
        event_burst: int,
        address_rate: float,
        address_burst: int,
        connections_per_address: int,
        connect_rate: float,
        connect_burst: int,
        sync_rate: float = 2.0,
        sync_burst: int = 10,
        residents: dict[str, tuple[float, int]],
        store: Store | None = None,
        clock=time.monotonic,
    ) -> None:
        self.event_rate, self.event_burst = event_rate, event_burst
        self.address_rate, self.address_burst = address_rate, address_burst
        self.connections_per_address = connections_per_address
        self.connect_rate, self.connect_burst = connect_rate, connect_burst
        self.sync_rate, self.sync_burst = sync_rate, sync_burst
        self.residents = residents  # kind -> (rate, burst) per address
        self.store: Store = store or MemoryStore()
        self.clock = clock
        self._verifying = asyncio.Semaphore(VERIFYING)
        self._waiting = 0

    @classmethod
    def of(cls, settings: Any, **options: Any) -> Limits:
        return cls(
            event_rate=settings.command_rate,
            event_burst=settings.command_burst,
            address_rate=settings.address_rate,
            address_burst=settings.address_burst,
            connections_per_address=settings.connections_per_address,
            connect_rate=settings.connect_rate,
            connect_burst=settings.connect_burst,
            residents={
                kind: (getattr(settings, f"{kind}_rate"), getattr(settings, f"{kind}_burst")) for kind in RESIDENT_KINDS
            },
            **options,
        )

    async def event(self, sender: str, address: str) -> bool:
        """One Socket.IO event from ``sender`` at ``address``, whatever its name."""
        buckets = [
            (f"event:{sender}", self.event_rate, self.event_burst),
            (f"address:{address}", self.address_rate, self.address_burst),
        ]
        return all(await self.store.take_each(buckets, self.clock()))

    async def request(self, address: str) -> bool:
        """One HTTP request that does something (a form, a sign-in), from ``address``: it draws on the address's
        bucket, as its sockets' events do."""
        return await self.store.take(f"address:{address}", self.address_rate, self.address_burst, self.clock())

    async def sync(self, sender: str) -> bool:
        return await self.store.take(f"sync:{sender}", self.sync_rate, self.sync_burst, self.clock())

    async def resident(self, kind: str, address: str) -> bool:
        """A resident's ``kind`` of action (``RESIDENT``) from ``address``; refused, too, while Redis is away."""
        rate, burst = self.residents[kind]
        return await self.store.take(f"{kind}:{address}", rate, burst, self.clock(), strict=True)

    async def handshake(self, address: str) -> bool:
        """A new connection's handshake from ``address``: refused before any socket is made when too fast."""
        return await self.store.take(f"connect:{address}", self.connect_rate, self.connect_burst, self.clock())

    async def connect(self, address: str, session: str | None = None) -> bool:
        """One more connection open from ``address`` (in ``session``, if it has one); if True, ``disconnect``
        must follow when it ends."""
        if not await self.store.acquire(f"open:{address}", self.connections_per_address):
            return False
        if session is not None and not await self.store.acquire(f"open-session:{session}", SESSION_CONNECTIONS):
            await self.store.release(f"open:{address}")
            return False
        return True

    async def disconnect(self, address: str, session: str | None = None) -> None:
        await self.store.release(f"open:{address}")
        if session is not None:
            await self.store.release(f"open-session:{session}")

    async def sign_in_wait(self, address: str, username: str) -> float:
        """Seconds before this address may try this username again; 0 when it may now."""
        now = self.clock()
        by_address = await self.store.failures(f"login-address:{address}", now)
        by_name = await self.store.failures(f"login-user:{username}", now)
        return max(ADDRESS_BACKOFF.wait(*by_address, now), USERNAME_BACKOFF.wait(*by_name, now))

    async def signed_in(self, address: str, username: str, ok: bool) -> None:
        now = self.clock()
        for key in (f"login-address:{address}", f"login-user:{username}"):
            await self.store.failures(key, now, add=not ok, clear=ok)

    async def code_wait(self, address: str) -> float:
        """Seconds before this address may type another join code; 0 when it may now."""
        now = self.clock()
        return ADDRESS_BACKOFF.wait(*await self.store.failures(f"code-address:{address}", now), now)

    async def code_typed(self, address: str, ok: bool) -> None:
        await self.store.failures(f"code-address:{address}", self.clock(), add=not ok, clear=ok)

    @asynccontextmanager
    async def verification(self) -> AsyncIterator[bool]:
        """A place among the password verifications running at once: True, or False when the queue is full."""
        if self._waiting >= VERIFY_QUEUE:
            yield False
            return
        self._waiting += 1
        try:
            await self._verifying.acquire()
        finally:
            self._waiting -= 1
        try:
            yield True
        finally:
            self._verifying.release()


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` header's value."""
    return str(max(1, math.ceil(seconds)))


def within_budget(payload: Any) -> bool:
    """True when a decoded envelope is small enough to be worth validating."""
    nodes = chars = 0
    stack = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            return False
        if isinstance(value, str):
            chars += len(value)
            if chars > MAX_CHARS:
                return False
        elif isinstance(value, dict):
            for key, item in value.items():
                chars += len(key) if isinstance(key, str) else 0
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return chars <= MAX_CHARS


_ESCAPED = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


def nesting_within(text: str, limit: int = MAX_WIRE_DEPTH) -> bool:
    """Whether JSON ``text`` nests at most ``limit`` levels of lists and objects, found without decoding it.

    Linear and in C: drop escapes, then strings, then all but brackets, then the innermost
    pairs ``limit`` times; brackets left over are nesting too deep (or are unbalanced, which
    no decoder would take either).  The JSON decoder itself recurses, and about 5,000
    levels (well under the size limit) raise RecursionError.
    """
    if "[" not in text and "{" not in text:
        return True
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPED.sub("", text)))
    for _ in range(limit):
        if not brackets:
            return True
        brackets, removed = _INNERMOST.subn("", brackets)
        if not removed:
            return False
    return not brackets
