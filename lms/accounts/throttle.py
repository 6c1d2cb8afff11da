"""Sign-in attempt limits, per account and per network address.

Only failures are counted (see lms/ratelimits.py for where counts live and
what happens when Redis is away). The same answer is given whether or not
the account exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from limits import RateLimitItemPerMinute

from lms import ratelimits

ACCOUNT_LIMIT = RateLimitItemPerMinute(10, 15)   # 10 failures in 15 minutes
ADDRESS_LIMIT = RateLimitItemPerMinute(50, 15)   # 50 failures in 15 minutes from one address


@dataclass(frozen=True)
class Throttled:
    minutes: int

    @property
    def message(self) -> str:
        unit = "minute" if self.minutes == 1 else "minutes"
        return (f"There have been too many sign-in attempts. "
                f"Please try again in {self.minutes} {unit}, or reset your password.")


def _account_key(email: str) -> str:
    return "signin-account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _address_key(address: str) -> str:
    return "signin-address:" + (address or "unknown")


def check(email: str, address: str) -> Throttled | None:
    """Throttled when either limit is used up, else None."""
    for item, key in ((ACCOUNT_LIMIT, _account_key(email)), (ADDRESS_LIMIT, _address_key(address))):
        if not ratelimits.allowed(item, key):
            return Throttled(ratelimits.minutes_until_reset(item, key))
    return None


def record_failure(email: str, address: str) -> None:
    ratelimits.hit(ACCOUNT_LIMIT, _account_key(email))
    ratelimits.hit(ADDRESS_LIMIT, _address_key(address))


def clear(email: str) -> None:
    ratelimits.clear(ACCOUNT_LIMIT, _account_key(email))
