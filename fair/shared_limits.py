"""The limits' counters in Redis, so that several workers count one address once (``fair.limits.Store``).

Each operation is one Lua script, so one round trip (for both of a socket
event's buckets together) and atomic however many workers ask at once:

- **Token buckets** (``take``): the tokens and when they were counted, in a
  hash that expires when the bucket would be full again: a bucket Redis
  forgot is a full one, so idle strangers cost no memory.  Times are the
  workers' wall clocks (``time.time``: a monotonic clock is per machine).
- **Open connections** (``acquire``/``release``): a hash per key with a
  count per worker.  A worker that dies without closing its sockets must not
  hold its address's places forever, so each worker keeps a key of its own
  alive (``HEARTBEAT``), and ``acquire`` drops the counts of workers whose
  key has lapsed.
- **Failures** (sign-in back-off): a count and the time of the last, which
  expire after ``forget_after`` as the memory store forgets them.

When Redis does not answer, the worker counts in its own memory meanwhile
(``degraded``) and logs it once: limits per worker are looser, never a hall
that cannot sign in.  The residents' limits are the exception (``strict``):
a support or a rating given cannot be taken back, so while Redis is away
they are refused rather than counted per worker.  It asks Redis again only every ``RETRY_SECONDS`` (and
at each heartbeat), so an unreachable Redis does not make every event wait
for a connection timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import suppress

from redis.asyncio import Redis
from redis.exceptions import RedisError

from fair.limits import MemoryStore

log = logging.getLogger(__name__)
HEARTBEAT = 10.0  # seconds between a worker's "still here"
LAPSE = 3 * HEARTBEAT  # after which a silent worker's connections no longer count
OPEN_TTL = 86_400  # an open-connections hash nobody touched for a day is dropped
RETRY_SECONDS = 5.0  # while degraded, between two tries of Redis by the limits

_TAKE = """
local taken = {}
for i, key in ipairs(KEYS) do
  local rate, burst, now = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1]), tonumber(ARGV[1])
  local got = redis.call('HMGET', key, 't', 'w')
  local tokens, when = tonumber(got[1]) or burst, tonumber(got[2]) or now
  if now > when then tokens = math.min(burst, tokens + (now - when) * rate) else now = when end
  taken[i] = 0
  if tokens >= 1 then tokens = tokens - 1; taken[i] = 1 end
  redis.call('HSET', key, 't', tostring(tokens), 'w', tostring(now))
  redis.call('EXPIRE', key, math.ceil((burst - tokens) / rate) + 1)
end
return taken
"""

_ACQUIRE = """
local counts = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #counts, 2 do
  if redis.call('EXISTS', ARGV[3] .. counts[i]) == 1 then total = total + tonumber(counts[i + 1])
  else redis.call('HDEL', KEYS[1], counts[i]) end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""

_RELEASE = """
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""

_FAILURES = """
if ARGV[3] == '1' then redis.call('DEL', KEYS[1]); return {0, '0'} end
local got = redis.call('HMGET', KEYS[1], 'n', 'last')
local count, last, now = tonumber(got[1]) or 0, tonumber(got[2]) or 0, tonumber(ARGV[1])
if last > 0 and now - last > tonumber(ARGV[4]) then count = 0 end
if ARGV[2] == '1' then
  count, last = count + 1, now
  redis.call('HSET', KEYS[1], 'n', count, 'last', tostring(last))
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4])))
end
return {count, tostring(last)}
"""


class RedisStore:
    """``fair.limits.Store`` over Redis, shared by every worker that has the same ``prefix``."""

    def __init__(self, redis: Redis, prefix: str, *, forget_after: float = 3600.0) -> None:
        self.redis, self.prefix, self.forget_after = redis, prefix, forget_after
        self.worker = uuid.uuid4().hex[:16]
        self.local = MemoryStore(forget_after=forget_after)  # while Redis does not answer
        self.degraded = False
        self._retry_at = 0.0
        self._take = redis.register_script(_TAKE)
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._failures = redis.register_script(_FAILURES)
        self._heartbeat: asyncio.Task | None = None

    async def start(self) -> None:
        await self._beat()
        self._heartbeat = asyncio.create_task(self._beating(), name="fair-limits-heartbeat")

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await self._heartbeat
        with suppress(RedisError, OSError):  # this worker's sockets are closing: its places are free
            await self.redis.delete(self._alive_key)

    @property
    def _alive_key(self) -> str:
        return f"{self.prefix}:worker:{self.worker}"

    async def _beat(self) -> None:
        try:
            await self.redis.set(self._alive_key, "1", ex=int(LAPSE))
        except (RedisError, OSError) as error:
            self._lost(error)
            return
        self._back()

    async def _beating(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            await self._beat()

    def _lost(self, error: Exception) -> None:
        if not self.degraded:
            log.warning("Redis does not answer (%s): counting limits in this worker alone meanwhile", error)
        self.degraded = True
        self._retry_at = time.monotonic() + RETRY_SECONDS

    def _alone(self) -> bool:
        """Whether to count in memory without asking Redis: it failed a moment ago."""
        return self.degraded and time.monotonic() < self._retry_at

    def _back(self) -> None:
        if self.degraded:
            log.warning("Redis answers again: limits are counted across the workers again")
        self.degraded = False

    def _key(self, key: str) -> str:
        return f"{self.prefix}:limits:{key}"

    async def take(self, key: str, rate: float, burst: float, now: float, *, strict: bool = False) -> bool:
        if not strict:
            return (await self.take_each([(key, rate, burst)], now))[0]
        if self._alone():
            return False
        try:
            taken = await self._take(keys=[self._key(key)], args=[now, rate, burst])
        except (RedisError, OSError) as error:
            self._lost(error)
            return False
        self._back()
        return bool(taken[0])

    async def take_each(self, buckets: list[tuple[str, float, float]], now: float) -> list[bool]:
        if self._alone():
            return await self.local.take_each(buckets, now)
        try:
            args = [now, *(number for _, rate, burst in buckets for number in (rate, burst))]
            taken = await self._take(keys=[self._key(key) for key, _, _ in buckets], args=args)
        except (RedisError, OSError) as error:
            self._lost(error)
            return await self.local.take_each(buckets, now)
        self._back()
        return [bool(one) for one in taken]

    async def acquire(self, key: str, cap: int) -> bool:
        if self._alone():
            return await self.local.acquire(key, cap)
        try:
            args = [self.worker, cap, f"{self.prefix}:worker:", OPEN_TTL]
            acquired = await self._acquire(keys=[self._key(key)], args=args)
        except (RedisError, OSError) as error:
            self._lost(error)
            return await self.local.acquire(key, cap)
        self._back()
        return bool(acquired)

    async def release(self, key: str) -> None:
        if key in self.local.counts:  # acquired while Redis was away
            await self.local.release(key)
            return
        try:
            await self._release(keys=[self._key(key)], args=[self.worker])
        except (RedisError, OSError) as error:
            self._lost(error)

    async def failures(self, key: str, now: float, *, add: bool = False, clear: bool = False) -> tuple[int, float]:
        if self._alone():
            return await self.local.failures(key, now, add=add, clear=clear)
        try:
            args = [now, int(add), int(clear), self.forget_after]
            count, last = await self._failures(keys=[self._key(key)], args=args)
        except (RedisError, OSError) as error:
            self._lost(error)
            return await self.local.failures(key, now, add=add, clear=clear)
        self._back()
        return int(count), float(last)
