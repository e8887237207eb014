"""`patrol users …`, `patrol init`, the home every data command names (and refuses when it holds
nothing), and `patrol serve`'s refusals: real stores under a temp PATROL_HOME."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.demo import DEMO_PASSWORD, DEMO_USER
from patrol.settings import Settings
from patrol.store import Store


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    monkeypatch.setenv("PATROL_HOME", str(path))
    monkeypatch.delenv("PATROL_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return path


def _store() -> Store:
    """The home's store with its audit key, as the commands open it."""
    from app.bootstrap import build_audit_key

    return Store(Settings().resolved_database_url, password_rounds=4, audit_key=build_audit_key(Settings()))


def run(*args, input=None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.mark.parametrize("command", [["audit", "verify"], ["users", "list"], ["search", "x"], ["reindex"],
                                     ["serve"], ["users", "add", "li", "--role", "officer", "--password-stdin"]])
def test_a_data_command_outside_a_home_names_it_and_creates_nothing(home, command):
    result = run(*command, input="long-enough-1\n")
    assert result.exit_code == 2
    assert f"using home {home.resolve()}" in result.stderr
    assert "not a Patrol home" in result.stderr and "patrol init" in result.stderr
    assert not home.exists()  # nothing made on the way


def test_an_existing_but_empty_directory_is_refused_too(home):
    home.mkdir()
    result = run("audit", "verify")
    assert result.exit_code == 2 and "holds no Patrol database" in result.stderr
    assert list(home.iterdir()) == []


def test_init_creates_the_home_and_then_commands_work(home):
    made = run("init")
    assert made.exit_code == 0 and "created" in made.stdout and (home / "patrol.db").is_file()
    again = run("init")
    assert again.exit_code == 0 and "already a Patrol home" in again.stdout
    verified = run("audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.stdout and str(home.resolve()) in verified.stderr


def test_user_management_commands_each_do_what_they_say_and_are_audited(home):
    assert run("init").exit_code == 0
    assert run("users", "add", "wang", "--role", "officer", "--password-stdin", input="long-enough-1\n").exit_code == 0
    listed = run("users", "list")
    assert listed.exit_code == 0 and "wang" in listed.stdout and "officer" in listed.stdout
    assert run("users", "set-role", "wang", "supervisor").exit_code == 0
    assert run("users", "disable", "wang").exit_code == 0
    assert "disabled" in run("users", "list").stdout
    assert run("users", "enable", "wang").exit_code == 0
    assert run("users", "reset-password", "wang", "--password-stdin", input="another-one-2\n").exit_code == 0
    store = _store()
    try:
        assert store.authenticate("wang", "another-one-2") is not None
        assert store.get_user("wang").role == "supervisor"
        changes = [e for e in store.audit_events(subject="user:wang", limit=100) if e.action == "user.changed"]
        assert len(changes) == 4 and all(e.actor == "system" for e in changes)
    finally:
        store.close()


@pytest.mark.parametrize("args, message", [
    (["users", "add", "li\nsi", "--role", "officer", "--password-stdin"], "user name must be"),
    (["users", "add", "li", "--role", "officer", "--password-stdin"], "at least 8 characters"),
    (["users", "set-role", "ghost", "officer"], "no user 'ghost'"),
    (["users", "set-role", "li", "boss"], "role must be one of"),
    (["users", "disable", "ghost"], "no user 'ghost'"),
    (["users", "unlock", "ghost"], "no user 'ghost'"),
])
def test_bad_user_commands_say_what_is_wrong(home, args, message):
    assert run("init").exit_code == 0
    password = "short\n" if "add" in args and args[2] == "li" else "long-enough-1\n"
    result = run(*args, input=password)
    assert result.exit_code == 2 and message in result.stderr


def test_unlock_lifts_a_lockout(home):
    assert run("init").exit_code == 0
    store = _store()
    store.add_user("li", "officer", "long-enough-1")
    from patrol.login_limits import LoginPolicy, LoginRefused

    store._users.login_policy = LoginPolicy(free_failures=50, lock_after=2)
    for _ in range(2):
        store.authenticate("li", "bad")
    with pytest.raises(LoginRefused):
        store.authenticate("li", "long-enough-1")
    assert "LOCKED" in run("users", "list").stdout
    assert run("users", "unlock", "li").stdout.strip() == "li unlocked"
    assert store.authenticate("li", "long-enough-1") is not None
    store.close()


@pytest.fixture
def served(monkeypatch):
    calls = []
    monkeypatch.setattr("app.cli._serve", lambda services, host, port: calls.append((host, port)))
    return calls


def test_serve_retires_the_demo_user_and_demo_brings_it_back(home, served):
    from app.bootstrap import build_services
    from app.demo import ensure_demo_user

    assert run("init").exit_code == 0
    services = build_services(Settings())
    ensure_demo_user(services, "127.0.0.1")
    assert services.store.active_default_password_users() == [DEMO_USER]
    result = run("serve", "--host", "0.0.0.0", "--port", "8123")
    assert result.exit_code == 0 and served == [("0.0.0.0", 8123)]
    assert "disabled the demo user" in result.stdout
    assert services.store.get_user(DEMO_USER).active is False
    assert services.store.authenticate(DEMO_USER, DEMO_PASSWORD) is None
    ensure_demo_user(services, "127.0.0.1")  # what `patrol demo` does before it serves
    assert services.store.get_user(DEMO_USER).active is True
    services.close()


def test_serve_refuses_a_non_loopback_address_while_a_default_password_is_active(home, served):
    assert run("init").exit_code == 0
    store = _store()
    store.add_user("boss", "admin", "changeme")  # as a script might have, before the CLI refused it
    result = run("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2 and served == []
    assert "well-known default password: boss" in result.stderr
    assert run("serve", "--host", "127.0.0.1").exit_code == 0 and served == [("127.0.0.1", 8000)]
    store.set_user("boss", "system", datetime.now(timezone.utc), password="a-real-passphrase")
    assert run("serve", "--host", "0.0.0.0").exit_code == 0 and served[-1][0] == "0.0.0.0"
    store.close()
