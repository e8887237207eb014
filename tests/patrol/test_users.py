import pytest

from patrol.reviews import PermissionDenied
from patrol.store import NotFound, UserExists
from patrol.users import User, UserError, check_password, hash_password


def test_password_hash_checks_the_right_password_only():
    h = hash_password("正确的密码", rounds=4)
    assert h.startswith("$2") and "正确" not in h
    assert check_password("正确的密码", h)
    assert not check_password("错误的密码", h)
    assert not check_password("", h)


def test_same_password_hashes_differently_each_time():
    assert hash_password("pw", rounds=4) != hash_password("pw", rounds=4)


def test_empty_and_overlong_passwords_are_refused_not_truncated():
    with pytest.raises(UserError, match="empty"):
        hash_password("")
    with pytest.raises(UserError, match="72 bytes"):
        hash_password("密" * 30, rounds=4)  # 90 bytes in UTF-8


def test_check_password_against_a_garbled_hash_is_false_not_an_error():
    assert not check_password("pw", "not-a-bcrypt-hash")


def test_roles_say_who_reviews_who_reads_the_audit_and_who_manages_users():
    assert [User("a", r).can_review for r in ("officer", "supervisor", "admin", "auditor")] == [True, True, False, False]
    assert [User("a", r).can_read_audit for r in ("officer", "supervisor", "admin", "auditor")] == [False, False, True, True]
    assert [User("a", r).can_manage_users for r in ("officer", "supervisor", "admin", "auditor")] == [False, False, True, False]
    assert not User("a", "officer", active=False).can_review


@pytest.fixture
def admin(store, make):
    return store.add_user("sun", "admin", "admin-pw", now=make.now)


def test_added_user_can_log_in_and_is_audited(store, make, admin):
    user = store.add_user("li", "officer", "s3cret", actor="sun", now=make.now)
    assert user == User("li", "officer", True) == store.get_user("li")
    assert store.authenticate("li", "s3cret", now=make.now) == user
    added, login = store.audit_events(after_seq=1)
    assert (added.action, added.actor, added.subject, added.payload) == ("user.added", "sun", "user:li", {"role": "officer"})
    assert (login.action, login.actor, login.payload) == ("user.login", "li", {"ok": True})


def test_wrong_password_and_unknown_user_get_none_and_are_audited(store, make):
    store.add_user("li", "officer", "s3cret", now=make.now)
    assert store.authenticate("li", "guess", now=make.now) is None
    assert store.authenticate("nobody", "guess", now=make.now) is None
    failed = store.audit_events(action="user.login")
    assert [(e.subject, e.payload["ok"]) for e in failed] == [("user:li", False), ("user:nobody", False)]


def test_password_hash_is_never_in_the_audit_trail(store, make, admin):
    store.add_user("li", "officer", "s3cret", now=make.now)
    store.set_user("li", "sun", make.now, password="n3w-s3cret")
    for event in store.audit_events():
        assert "s3cret" not in str(event.payload) and "$2" not in str(event.payload)
    assert store.authenticate("li", "n3w-s3cret") is not None


def test_deactivated_user_cannot_log_in(store, make, admin):
    store.add_user("li", "officer", "s3cret", now=make.now)
    store.set_user("li", "sun", make.now, active=False)
    assert store.authenticate("li", "s3cret", now=make.now) is None
    assert store.get_user("li").active is False


def test_role_change_is_audited(store, make, admin):
    store.add_user("li", "officer", "s3cret", now=make.now)
    assert store.set_user("li", "sun", make.now, role="supervisor").role == "supervisor"
    changed = store.audit_events(action="user.changed")[0]
    assert (changed.actor, changed.payload["role"]) == ("sun", "supervisor")


def test_duplicate_user_is_refused(store, make):
    store.add_user("li", "officer", "s3cret", now=make.now)
    with pytest.raises(UserExists, match="'li' already exists"):
        store.add_user("li", "admin", "other", now=make.now)
    assert store.get_user("li").role == "officer"


@pytest.mark.parametrize("name, role, message", [
    ("li", "boss", "role must be one of"),
    ("", "officer", "user name"),
    (" li", "officer", "user name"),
    ("x" * 65, "officer", "user name"),
])
def test_bad_user_fields_are_refused(store, name, role, message):
    with pytest.raises(UserError, match=message):
        store.add_user(name, role, "pw")
    assert store.list_users() == []


def test_changing_an_unknown_user_is_refused(store, make, admin):
    with pytest.raises(NotFound, match="no user 'ghost'"):
        store.set_user("ghost", "sun", make.now, active=False)


def test_users_are_listed_by_name(store, make):
    for name, role in (("zhao", "supervisor"), ("li", "officer"), ("qian", "auditor")):
        store.add_user(name, role, "pw", now=make.now)
    assert [u.name for u in store.list_users()] == ["li", "qian", "zhao"]


def test_a_change_with_nothing_to_change_is_refused(store, make):
    store.add_user("li", "officer", "s3cret", now=make.now)
    with pytest.raises(UserError, match="nothing to change"):
        store.set_user("li", "sun", make.now)


def test_only_an_admin_or_the_server_operator_manages_users(store, make, admin):
    store.add_user("li", "officer", "s3cret", actor="sun", now=make.now)
    store.add_user("zhao", "supervisor", "s3cret", now=make.now)  # `patrol users add` acts as "system"
    with pytest.raises(PermissionDenied, match="needs an active admin"):
        store.add_user("mallory", "admin", "s3cret", actor="li", now=make.now)
    with pytest.raises(PermissionDenied, match="needs an active admin"):
        store.set_user("li", "zhao", make.now, role="supervisor")
    store.set_user("sun", "system", make.now, active=False)
    with pytest.raises(PermissionDenied):
        store.add_user("eve", "officer", "s3cret", actor="sun", now=make.now)
    assert [u.name for u in store.list_users()] == ["li", "sun", "zhao"]
