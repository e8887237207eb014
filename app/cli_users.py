"""`patrol users …`: add, list, disable, enable, set-role, reset-password, unlock, sessions,
end-sessions. Run on the server by its operator, so the store records them with the actor
"system"; each is audited like the same step taken by an admin in the API or the console."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import typer

from app.cli_home import fail, open_services

users_app = typer.Typer(help="Manage console and API users.", no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _read_password(from_stdin: bool) -> str:
    from patrol.users import UserError, check_new_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        return check_new_password(password)
    except UserError as exc:
        fail(str(exc))


def _store_call(action):
    """Run a store call and turn its refusals into a one-line message and exit code 2."""
    from patrol.reviews import PermissionDenied
    from patrol.store import StoreError

    services = open_services()
    try:
        return action(services.store)
    except (ValueError, StoreError, PermissionDenied) as exc:
        fail(str(exc))
    finally:
        services.close()


PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from standard input.")


@users_app.command("add")
def users_add(name: str, role: str = typer.Option(..., "--role", help="officer | supervisor | admin | auditor"),
              password_stdin: bool = PASSWORD_STDIN) -> None:
    """Add a user; the password is read from the terminal, or from stdin with --password-stdin."""
    from patrol.users import ROLES

    if role not in ROLES:
        fail(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    password = _read_password(password_stdin)
    _store_call(lambda store: store.add_user(name, role, password))
    typer.echo(f"added {name} ({role})")


@users_app.command("list")
def users_list() -> None:
    """Every user: role, active or disabled, locked, known-default password, live sessions."""
    accounts = _store_call(lambda store: store.accounts(_now()))
    for a in accounts:
        flags = [f for f, on in (("disabled", not a.active), ("LOCKED", a.locked),
                                 ("default-password", a.default_password)) if on]
        typer.echo(f"{a.name:<24} {a.role:<10} {'active' if a.active else 'disabled':<9} "
                   f"{a.live_sessions:>3} session(s)  {' '.join(flags)}".rstrip())
    if not accounts:
        typer.echo("no users yet: add one with `patrol users add NAME --role ROLE`")


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Deactivate a user: their tokens and console sessions end at once."""
    _store_call(lambda store: store.set_user(name, "system", _now(), active=False))
    typer.echo(f"disabled {name}; their sessions are ended")


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Reactivate a user."""
    _store_call(lambda store: store.set_user(name, "system", _now(), active=True))
    typer.echo(f"enabled {name}")


@users_app.command("set-role")
def users_set_role(name: str, role: str) -> None:
    """Change a user's role (their sessions end: they log in again under the new role)."""
    user = _store_call(lambda store: store.set_user(name, "system", _now(), role=role))
    typer.echo(f"{name} is now {user.role}")


@users_app.command("reset-password")
def users_reset_password(name: str, password_stdin: bool = PASSWORD_STDIN) -> None:
    """Set a new password (at least 8 characters, not a known default); their sessions end."""
    password = _read_password(password_stdin)
    _store_call(lambda store: store.set_user(name, "system", _now(), password=password))
    typer.echo(f"password of {name} reset; their sessions are ended")


@users_app.command("unlock")
def users_unlock(name: str) -> None:
    """Lift a login lockout (after too many failed logins)."""
    lifted = _store_call(lambda store: store.unlock_user(name, "system", _now()))
    typer.echo(f"{name} unlocked" if lifted else f"{name} was not locked")


@users_app.command("sessions")
def users_sessions(name: str = typer.Argument(None, help="Only this user's.")) -> None:
    """Live sessions (tokens and console logins), newest first."""
    rows = _store_call(lambda store: store.list_sessions(name, _now()))
    for s in rows:
        typer.echo(f"{s.id}  {s.user_name:<20} {s.kind:<8} since {s.created_at:%Y-%m-%d %H:%M} UTC  "
                   f"until {s.expires_at:%Y-%m-%d %H:%M} UTC  from {s.address or '?'}")
    typer.echo(f"{len(rows)} live session(s)")


@users_app.command("end-sessions")
def users_end_sessions(name: str) -> None:
    """End every live session of a user."""
    n = _store_call(lambda store: store.end_sessions(name, "system", _now()))
    typer.echo(f"ended {n} session(s) of {name}")
