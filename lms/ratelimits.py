"""Counting attempts (sign-in failures, check-in codes, posts) in Flask-Limiter's storage.

With LMS_REDIS_URL set the counts live in Redis, so they hold across every
worker. If Redis goes away, counting carries on in each worker's memory
(it fails over, never open): limits stay in force, only less precise
(each worker counts on its own) until Redis returns.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from lms.extensions import limiter

log = logging.getLogger("lms.ratelimits")
_fallback = MovingWindowRateLimiter(MemoryStorage())
STORAGE_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, OSError, TimeoutError)
try:  # redis is a dependency, but keep this module importable without it
    from redis.exceptions import RedisError

    STORAGE_ERRORS += (RedisError,)
except ImportError:  # pragma: no cover
    pass


def _call(method: str, *args):
    try:
        return getattr(limiter.limiter, method)(*args)
    except STORAGE_ERRORS as error:
        log.warning("Rate-limit storage unavailable (%s); counting in this worker's memory.", type(error).__name__)
        return getattr(_fallback, method)(*args)


def allowed(item: RateLimitItem, key: str) -> bool:
    """True while ``key`` has attempts left under ``item``."""
    return _call("test", item, key)


def hit(item: RateLimitItem, key: str) -> None:
    _call("hit", item, key)


def clear(item: RateLimitItem, key: str) -> None:
    _call("clear", item, key)


def minutes_until_reset(item: RateLimitItem, key: str) -> int:
    reset_at = _call("get_window_stats", item, key).reset_time
    return max(1, math.ceil((reset_at - time.time()) / 60))
