"""The console in a real chromium (issue 11, leftovers): a masked number revealed with JavaScript
switched off (a form post, audited like the script's reveal), a group's size in the queue, and an
administrator moving an alert rule's threshold on the rules page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from patrol.store import AlertFilter
from tests.browser.people import login
from tests.browser.seeding import seed_alert

PHONE = "13987654321"


def _reveals(console, alert_id: str) -> list[dict]:
    with console.api("audrey") as api:
        events = api.get("/api/audit", params={"subject": f"alert:{alert_id}", "limit": 1000}).json()["events"]
    return [e for e in events if e["action"] == "identifier.revealed"]


def test_a_masked_number_is_revealed_without_javascript_and_audited(browser, console, artifacts):
    alert_id = seed_alert(console.services, f"撑不下去了 想结束 手机{PHONE} 无脚本", "self_harm", "nojs-forum",
                          datetime.now(timezone.utc) - timedelta(minutes=3))
    ctx = browser.new_context(base_url=console.base_url, locale="zh-CN", java_script_enabled=False,
                              viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        login(page, "olga")
        page.goto(f"/console/alerts/{alert_id}")
        assert PHONE not in page.inner_text("#frozen-post") and "139****4321" in page.inner_text("#frozen-post")
        page.click("#identifier-list summary")  # <details> opens without script
        page.click('#identifier-list .reveal-button[data-identifier="0"]')
        page.wait_for_load_state()
        assert PHONE in page.inner_text("#post-text")
        assert "已显示 1 项完整身份信息" in page.inner_text("#revealed-note")
        page.screenshot(path=artifacts / "reveal-without-javascript.png", full_page=True)
    finally:
        ctx.close()
    assert [(e["actor"], e["payload"]) for e in _reveals(console, alert_id)] == [
        ("olga", {"index": 0, "kind": "mobile"})]


def test_the_queue_shows_a_groups_size(officer_page, console, artifacts):
    store = console.services.store
    lead = next(a for a in store.list_alerts(AlertFilter(limit=500)).items if a.group_size > 1)
    page = officer_page
    page.goto("/console/?status=" + lead.status)
    badge = page.locator(f'tr[data-alert-id="{lead.id}"] .group-size')
    assert badge.inner_text() == f"共 {lead.group_size} 帖"
    page.screenshot(path=artifacts / "queue-group-size.png")


def test_an_admin_moves_a_rules_threshold_on_the_rules_page_audited(new_page, console, artifacts):
    rule = next(r for r in console.services.rules if r.category == "abuse_hate")
    page = new_page()
    login(page, "ada")
    page.goto("/console/admin/rules")
    row = page.locator(f'tr[data-rule="{rule.name}"]')
    try:
        row.locator('input[name="min_score"]').fill("0.93")
        row.locator('button[type="submit"]').click()
        page.wait_for_load_state()
        assert f"规则 {rule.name} 已启用，阈值 0.93" in page.inner_text("#flash")
        assert page.locator(f'tr[data-rule="{rule.name}"] .rule-threshold').inner_text() == "0.93"
        page.screenshot(path=artifacts / "admin-rules-changed.png", full_page=True)
        # A threshold that is not a number: a Chinese message, nothing changed.
        row = page.locator(f'tr[data-rule="{rule.name}"]')
        row.locator('input[name="min_score"]').fill("九成")
        row.locator('button[type="submit"]').click()
        page.wait_for_load_state()
        assert "不是数字" in page.inner_text("#flash")
        assert page.locator(f'tr[data-rule="{rule.name}"] .rule-threshold').inner_text() == "0.93"
        with console.api("audrey") as api:
            events = api.get("/api/audit", params={"action": "rule.changed", "limit": 100}).json()["events"]
        assert [(e["actor"], e["subject"], e["payload"]["after"]) for e in events] == [
            ("ada", f"rule:{rule.name}", {"enabled": True, "min_score": 0.93})]
    finally:  # the console is shared by the session's tests: the rule goes back as it was
        from api.services.rules import change_rule
        change_rule(console.services, "ada", rule.name, rule.enabled, str(rule.min_score))
