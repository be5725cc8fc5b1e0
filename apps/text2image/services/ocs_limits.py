"""Sliding-window counters for the OCS APIs, on the cache (Redis in production).

Nextcloud counts rate-limited attempts over the last ``period`` seconds (a sliding window, not
fixed windows that reset at the top of the minute); so do these. Attempts are counted in buckets of
``period / 120`` seconds (one second for Nextcloud's 120-second windows), each bucket a cache counter
incremented atomically, and the window is the sum of the buckets it covers.

- ``attempt(name, limit=, period=)``: registers one attempt unless ``limit`` attempts were already
  made within the window; returns whether it was allowed (a refused attempt is not counted, as in
  Nextcloud). Schedule rate limits use it. The current bucket's atomic increment gives each of
  concurrent attempts its own number, so exactly ``limit`` of them pass, never more.
- ``record(name, period=)`` / ``count(name, period=)``: count events (404 answers of task lookups)
  and read how many fall in the window. The anti-enumeration throttle uses them.
"""

import contextlib
import time

from django.core.cache import cache

KEY_PREFIX = "ocs-window"
BUCKETS_PER_WINDOW = 120


def _width(period: int) -> int:
    return max(1, period // BUCKETS_PER_WINDOW)


def _keys(name: str, period: int, now: float) -> tuple[str, list[str]]:
    """(the current bucket's key, the keys of every bucket inside the window)."""
    width = _width(period)
    current = int(now // width)
    first = int((now - period) // width) + 1
    return f"{KEY_PREFIX}:{name}:{width}:{current}", [
        f"{KEY_PREFIX}:{name}:{width}:{bucket}" for bucket in range(first, current + 1)
    ]


def count(name: str, *, period: int) -> int:
    _, keys = _keys(name, period, time.time())
    return sum(int(value) for value in cache.get_many(keys).values())


def _record(name: str, period: int, now: float) -> tuple[str, int]:
    current, keys = _keys(name, period, now)
    timeout = period + _width(period) + 1
    cache.add(current, 0, timeout=timeout)
    try:
        position = cache.incr(current)  # atomic: concurrent attempts each get their own number
    except ValueError:  # the bucket expired between add and incr
        cache.set(current, 1, timeout=timeout)
        position = 1
    earlier = cache.get_many([key for key in keys if key != current])
    return current, int(position) + sum(int(value) for value in earlier.values())


def record(name: str, *, period: int) -> int:
    """Count one event; returns the window's total with it."""
    return _record(name, period, time.time())[1]


def attempt(name: str, *, limit: int, period: int) -> bool:
    """Register an attempt if fewer than ``limit`` were made within the window; False otherwise."""
    current, total = _record(name, period, time.time())
    if total <= limit:
        return True
    with contextlib.suppress(ValueError):
        cache.decr(current)  # a refused attempt does not count
    return False
