"""Failed-login counters (table login_limits) applied by the policy of patrol.login_limits.

`reserve` runs before the password is checked: it refuses an attempt the policy holds back, and
otherwise counts it as a failure up front, in a write transaction serialised on the audit head, so
parallel attempts are counted one after another. `settle` forgives the attempt when the password
was right, or records the lockout it caused."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from patrol.login_limits import (Counter, LoginPolicy, LoginRefused, account_key, address_key,
                                 after_failure, refusal)
from patrol.store.chain import AuditChain
from patrol.store.engine import insert_ignore
from patrol.store.schema import login_limits


def _read(conn: Connection, key: str) -> Counter:
    row = conn.execute(select(login_limits).where(login_limits.c.key == key)).first()
    if row is None:
        return Counter()
    return Counter(row.failures, row.last_failure_at, row.blocked_until, bool(row.locked))


def _write(conn: Connection, key: str, c: Counter) -> None:
    values = {"failures": c.failures, "last_failure_at": c.last_failure_at,
              "blocked_until": c.blocked_until, "locked": c.locked}
    if insert_ignore(conn, login_limits, {"key": key, **values}) != 1:
        conn.execute(update(login_limits).where(login_limits.c.key == key).values(values))


def reserve(conn: Connection, chain: AuditChain, policy: LoginPolicy, name_key: str, address: str | None,
            subject: str, actor: str, now: datetime) -> tuple[LoginRefused | None, bool]:
    """Count this attempt as a failure before its password is checked. Returns (the refusal, when
    the policy holds the attempt back: audited here, raised by the caller once this transaction is
    committed; whether the attempt, if wrong, locks the account)."""
    akey = account_key(name_key)
    account = _read(conn, akey).current(policy, now)
    address_counter = _read(conn, address_key(address)).current(policy, now) if address else Counter()
    refused = refusal(account, address_counter, now)
    if refused is not None:
        chain.append(now, actor, "user.login", subject,
                     {"ok": False, "refused": "locked" if refused.retry_after is None else "backoff"})
        return refused, False
    new_account = after_failure(account, policy, now, free=policy.free_failures, can_lock=True)
    _write(conn, akey, new_account)
    if address:
        _write(conn, address_key(address), after_failure(address_counter, policy, now,
                                                         free=policy.address_free_failures, can_lock=False))
    return None, new_account.locked and not account.locked


def forgive(conn: Connection, policy: LoginPolicy, name_key: str, address: str | None) -> None:
    """The password was right: the account starts afresh; the address loses this one failure."""
    conn.execute(delete(login_limits).where(login_limits.c.key == account_key(name_key)))
    if address:
        key = address_key(address)
        c = _read(conn, key)
        failures = max(c.failures - 1, 0)
        blocked = c.blocked_until if policy.wait_after(failures, policy.address_free_failures) else None
        conn.execute(update(login_limits).where(login_limits.c.key == key)
                     .values(failures=failures, blocked_until=blocked))


def lift_lock(conn: Connection, name: str) -> bool:
    """Remove an account's lockout and back-off; whether there was anything to lift."""
    return conn.execute(delete(login_limits).where(login_limits.c.key == account_key(name))).rowcount > 0


def locked_names(conn: Connection) -> set[str]:
    rows = conn.execute(select(login_limits.c.key).where(login_limits.c.locked.is_(True),
                                                         login_limits.c.key.like("user:%")))
    return {key.removeprefix("user:") for (key,) in rows}


__all__ = ["LoginRefused", "reserve", "forgive", "lift_lock", "locked_names"]
