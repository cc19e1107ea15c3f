"""What one connection may send: a rate of commands, and payloads of modest size.

Checked before a payload reaches the core, so that a flood or a megabyte of
JSON costs a coded refusal and nothing more.
"""

from __future__ import annotations

from typing import Any

MAX_NODES = 2_000  # values in one payload, all levels together
MAX_CHARS = 20_000  # characters of text in one payload
MAX_DEPTH = 8


class RateLimit:
    """A token bucket: ``rate`` commands a second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.last: float | None = None

    def take(self, now: float) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def within_budget(payload: Any) -> bool:
    """True when the payload is small enough to be worth validating."""
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
