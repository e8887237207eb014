"""Getting in and out of the console, and the queue an officer lands on."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from patrol.taxonomy import SEVERITY_RANK
from tests.browser.glyphs import missing_glyphs
from tests.browser.people import login, password_of

pytestmark = pytest.mark.browser

SEVERITY_LABEL = {"critical": "紧急", "high": "高", "medium": "中", "low": "低"}


def test_a_wrong_password_shows_an_error_and_keeps_the_officer_on_the_login_page(new_page):
    page = new_page()
    login(page, "olga", password="not-her-password")
    assert urlsplit(page.url).path == "/console/login"
    assert page.inner_text("#login-error") == "用户名或密码错误。"
    # The name stays filled in; the password does not come back.
    assert page.input_value("#username") == "olga"
    assert page.input_value("#password") == ""
    assert page.locator("#current-user").count() == 0


def test_the_officer_lands_on_the_queue_ordered_by_severity_with_chinese_labels(new_page, tmp_path):
    page = new_page()
    login(page, "olga")
    assert urlsplit(page.url).path == "/console/"
    assert page.locator("#current-user").get_attribute("data-user") == "olga"
    assert page.locator("#current-user").get_attribute("data-role") == "officer"
    assert page.inner_text("h1").startswith("告警队列")

    rows = page.locator("#alert-queue tr.alert-row")
    severities = rows.evaluate_all("rows => rows.map(r => r.dataset.severity)")
    assert len(severities) >= 10, "the demo raises a few dozen alerts"
    assert severities[0] in ("critical", "high")
    ranks = [SEVERITY_RANK[s] for s in severities]
    assert ranks == sorted(ranks), f"queue not ordered by severity: {severities}"
    # The labels a person reads, not the codes.
    first = rows.first
    assert first.locator(".badge").inner_text() == SEVERITY_LABEL[severities[0]]
    assert first.locator("td").nth(4).inner_text().startswith(("待处理", "已认领", "已上报"))
    assert page.locator("#alert-queue thead").inner_text().split() == ["严重程度", "类别", "内容", "信源", "状态", "截止"]
    # Real glyphs, not boxes: fonts-noto-cjk is installed (scripts/install-system.sh).
    assert missing_glyphs(page, "#alert-queue", page.inner_text("#alert-queue thead") + first.inner_text()) == []
    page.screenshot(path=tmp_path / "queue.png")  # for a person to look at, with --basetemp


def test_a_console_page_asked_for_without_a_session_sends_to_login_and_back_after(new_page, console):
    page = new_page()
    page.goto("/console/search?q=%E5%8D%9A%E5%BD%A9")
    parts = urlsplit(page.url)
    assert parts.path == "/console/login"
    assert unquote(parse_qs(parts.query)["next"][0]) == "/console/search?q=博彩"
    assert page.locator("#login-form").is_visible()

    page.fill("#username", "olga")
    page.fill("#password", password_of("olga"))
    page.click("#login-submit")
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/console/search"
    assert page.input_value("#search-q") == "博彩"


def test_logout_ends_the_session_and_the_console_asks_for_login_again(officer_page):
    page = officer_page
    page.click("#logout")
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/console/login"
    assert page.locator("#current-user").count() == 0
    page.goto("/console/")
    assert urlsplit(page.url).path == "/console/login"
    cookies = {c["name"] for c in page.context.cookies()}
    assert "patrol_session" not in cookies


def test_the_login_page_will_not_send_the_officer_to_another_site_after_login(new_page):
    page = new_page()
    login(page, "olga", next_path="https://example.invalid/phish")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/console/", page.url)
