"""The console's user administration (/console/admin/users) in chromium: an admin disables an
officer, whose open console session ends at once, and enables them again."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from patrol.store import Store
from tests.browser.people import login, password_of

pytestmark = pytest.mark.browser

ADMIN = "ada-admin"
VICTIM = "vera-officer"


@pytest.fixture(scope="module")
def people(console):
    # Users of this module only, at bcrypt's lowest cost (as conftest adds its own).
    store = Store(console.services.settings.resolved_database_url, password_rounds=4,
                  audit_key=console.services.store.audit_key)
    for name, role in ((ADMIN, "admin"), (VICTIM, "officer")):
        if store.get_user(name) is None:
            store.add_user(name, role, password_of(name))
    store.close()


def test_an_admin_disables_an_officer_whose_open_session_ends_at_once(new_page, people):
    officer = new_page()
    login(officer, VICTIM)
    assert urlsplit(officer.url).path == "/console/"

    admin = new_page()
    login(admin, ADMIN)
    admin.click("a[data-nav=admin-users]")
    assert urlsplit(admin.url).path == "/console/admin/users"
    row = admin.locator(f'#users tr.user-row[data-user="{VICTIM}"]')
    assert row.get_attribute("data-active") == "true" and int(row.get_attribute("data-sessions")) >= 1
    row.locator(".disable-button").click()
    admin.wait_for_load_state()
    assert f"已停用 {VICTIM}" in admin.inner_text("#flash")
    row = admin.locator(f'#users tr.user-row[data-user="{VICTIM}"]')
    assert row.get_attribute("data-active") == "false" and row.get_attribute("data-sessions") == "0"

    officer.reload()  # the officer's cookie is still in their browser, and counts for nothing
    assert urlsplit(officer.url).path == "/console/login"

    row.locator(".enable-button").click()
    admin.wait_for_load_state()
    assert admin.locator(f'#users tr.user-row[data-user="{VICTIM}"]').get_attribute("data-active") == "true"
    login(officer, VICTIM)
    assert urlsplit(officer.url).path == "/console/"


def test_a_bad_user_name_is_refused_in_chinese_and_nothing_is_added(new_page, people, console):
    admin = new_page()
    login(admin, ADMIN, next_path="/console/admin/users")
    # Past the browser's own pattern check, as a hand-made request would be.
    admin.evaluate("document.querySelector('#new-user-name').removeAttribute('pattern')")
    admin.fill("#new-user-name", "li si")
    admin.fill("#new-user-password", "long-enough-1")
    admin.click("#add-user-button")
    admin.wait_for_load_state()
    assert "用户名须为" in admin.inner_text("#flash")
    assert console.services.store.get_user("li si") is None


def test_an_officer_is_refused_the_page(new_page, people):
    page = new_page()
    login(page, VICTIM, next_path="/console/admin/users")
    assert page.locator("#admin-forbidden").is_visible()
    assert page.locator("a[data-nav=admin-users]").count() == 0
