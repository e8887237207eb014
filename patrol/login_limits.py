"""How many wrong passwords a login may take: the back-off and lockout policy (pure decisions;
the store keeps the counters in `login_limits` and applies them).

Two counters per attempt: the account name (kept for names no user has as well, so the answer
never tells which names exist) and the client address. Every attempt counts as a failure BEFORE
the password is checked and is forgiven when it turns out right, so fifty attempts in parallel are
counted like fifty in a row. Past `free_failures`, each further failure doubles a wait before the
next attempt is even checked; at `lock_after` failures in a row an account is locked until an
admin lifts it (`patrol users unlock`, the API, the console). An address is never locked for good,
since an office may share one; its wait is capped like an account's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


class LoginRefused(Exception):
    """A login refused before the password was checked: too many failures. `retry_after` is the
    seconds until the next attempt will be checked (None: locked until an admin lifts it)."""

    def __init__(self, message: str, retry_after: int | None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginPolicy:
    free_failures: int = 5            # per account, before any wait
    lock_after: int = 20              # per account, in a row: locked until an admin lifts it
    address_free_failures: int = 20   # per client address, before any wait
    first_wait: timedelta = timedelta(seconds=2)
    max_wait: timedelta = timedelta(minutes=15)
    # Failures older than this are forgotten (not a lockout: that waits for an admin).
    forget_after: timedelta = timedelta(hours=1)

    def wait_after(self, failures: int, free: int) -> timedelta | None:
        """The wait imposed after `failures` failures when `free` are allowed, or None."""
        if failures < free:
            return None
        doubling = min(failures - free, 20)
        return min(self.first_wait * (2 ** doubling), self.max_wait)


def account_key(name: str) -> str:
    return f"user:{name[:90]}"


def address_key(address: str) -> str:
    return f"addr:{address[:90]}"


@dataclass(frozen=True)
class Counter:
    """One row of login_limits as the policy sees it."""

    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None
    locked: bool = False

    def current(self, policy: LoginPolicy, now: datetime) -> "Counter":
        """The counter with stale failures forgotten (a lock is never forgotten)."""
        if not self.locked and self.last_failure_at and now - self.last_failure_at > policy.forget_after:
            return Counter()
        return self


def refusal(account: Counter, address: Counter, now: datetime) -> LoginRefused | None:
    """Why this attempt is refused unchecked, or None when its password may be checked."""
    if account.locked:
        return LoginRefused("this account is locked after too many failed logins; an administrator "
                            "must unlock it", None)
    for counter, whose in ((account, "this account"), (address, "this address")):
        if counter.blocked_until and counter.blocked_until > now:
            wait = max(1, int((counter.blocked_until - now).total_seconds() + 0.999))
            return LoginRefused(f"too many failed logins from {whose}; try again in {wait} s", wait)
    return None


def after_failure(counter: Counter, policy: LoginPolicy, now: datetime, *, free: int,
                  can_lock: bool) -> Counter:
    """The counter after one more failure."""
    failures = counter.failures + 1
    wait = policy.wait_after(failures, free)
    return Counter(failures=failures, last_failure_at=now,
                   blocked_until=now + wait if wait else None,
                   locked=counter.locked or (can_lock and failures >= policy.lock_after))
