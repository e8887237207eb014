"""A duty shift in the console, in Debian's chromium: keyboard triage, a supervisor's takeover and
bulk dismissal, an overdue critical alert that notifies, an audited reveal, the protections.
Screenshots of each page go to artifacts/browser/ (git-ignored) for a person to look at."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.people import login
from tests.browser.seeding import seed_alert

pytestmark = pytest.mark.browser

# Records each desktop notification the page raises, then lets the browser's own one through.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification; window.__notes = [];
  if (!Real) return;
  function Recorded(title, options) { window.__notes.push({title: title, body: (options || {}).body || ""});
                                      return new Real(title, options); }
  Recorded.requestPermission = Real.requestPermission.bind(Real);
  Object.defineProperty(Recorded, "permission", {get: () => Real.permission});
  window.Notification = Recorded;
})();
"""


def wait_until(page, predicate_js: str, timeout: float = 15.0) -> None:
    """Poll a predicate in the page: wait_for_function would eval a string, which the console's
    CSP (no 'unsafe-eval') refuses, and the CSP stays on in these tests."""
    import time
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate_js):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate_js}"
        page.wait_for_timeout(200)


def _status(console, alert_id: str) -> dict:
    with console.api("audrey") as api:
        return api.get(f"/api/alerts/{alert_id}").json()


def _events(console, alert_id: str) -> list[dict]:
    with console.api("audrey") as api:
        return api.get("/api/audit", params={"subject": f"alert:{alert_id}", "limit": 1000}).json()["events"]


def test_an_officer_triages_three_alerts_by_keyboard_alone(new_page, console, artifacts):
    ids = [seed_alert(console.services, f"出冰 同城 键盘{i}", "drugs", "kb-forum",
                      datetime.now(timezone.utc) - timedelta(minutes=30 - i)) for i in range(3)]
    page = new_page()
    login(page, "olga", next_path="/console/?source=kb-forum&sort=oldest")
    assert page.locator("#alert-queue tr.alert-row").count() == 3
    assert page.locator("tr.alert-row.cursor").get_attribute("data-alert-id") == ids[0]

    page.keyboard.press("c")  # claim the first
    page.wait_for_selector("#flash")
    assert page.inner_text("#flash") == "已认领。" and "source=kb-forum" in page.url

    page.keyboard.press("j")
    assert page.locator("tr.alert-row.cursor").get_attribute("data-alert-id") == ids[1]
    page.keyboard.press("x")  # dismiss the second: the dialog asks for the reason first
    assert page.locator("#triage-dialog").is_visible()
    page.select_option("#triage-reason", "false_positive")
    page.keyboard.press("Tab")
    page.keyboard.type("不是毒品，是冰块批发")
    with page.expect_navigation():
        page.click("#triage-submit")
    assert page.inner_text("#flash") == "结论已提交。"

    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    assert page.locator("tr.alert-row.cursor").get_attribute("data-alert-id") == ids[2]
    page.keyboard.press("e")  # escalate the third: a note for the supervisor is required
    page.keyboard.type("疑似团伙，请主管研判")
    with page.expect_navigation():
        page.click("#triage-submit")
    page.keyboard.press("?")
    assert page.locator("#help-dialog").is_visible()
    page.screenshot(path=artifacts / "queue-keyboard-help.png", full_page=True)
    page.keyboard.press("Escape")

    assert [_status(console, i)["status"] for i in ids] == ["claimed", "dismissed", "escalated"]
    assert _status(console, ids[1])["outcome"] == "false_positive"
    decided = [e for e in _events(console, ids[2]) if e["action"] == "alert.decided"][-1]
    assert decided["actor"] == "olga" and decided["payload"]["note"] == "疑似团伙，请主管研判"

    # Enter opens the alert under the cursor.
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/alerts/*")
    assert page.locator("#alert-detail").count() == 1

    # An officer is offered no 认领 on the escalated alert (it would be refused).
    oscar = new_page()
    login(oscar, "oscar", next_path=f"/console/alerts/{ids[2]}")
    assert oscar.locator("#claim-button").count() == 0 and "由主管处理" in oscar.inner_text("#actions")
    assert page.dialogs == [] and oscar.dialogs == []


def test_a_supervisor_takes_over_and_bulk_dismisses(new_page, console, artifacts):
    a = seed_alert(console.services, "收卡 高价 一", "fraud", "bulk-forum")
    b = seed_alert(console.services, "收卡 高价 二", "fraud", "bulk-forum")
    with console.api("olga") as api:
        assert api.post(f"/api/alerts/{a}/claim").status_code == 200
    page = new_page()
    login(page, "sam", next_path="/console/?source=bulk-forum")
    assert page.locator(f'.claim-button[data-alert-id="{a}"]').inner_text() == "接管"
    page.check(f'.row-select[value="{a}"]')
    page.check(f'.row-select[value="{b}"]')
    assert page.inner_text("#selected-count") == "2"
    page.select_option("#bulk-action", "claim")
    with page.expect_navigation():
        page.click("#bulk-submit")
    assert "批量认领/接管：2 条成功" in page.inner_text("#flash")
    assert {_status(console, i)["assignee"] for i in (a, b)} == {"sam"}

    page.check("#select-all")
    page.select_option("#bulk-action", "dismiss")
    assert page.locator("#bulk-reason").is_visible() and not page.locator("#bulk-assignee").is_visible()
    page.select_option("#bulk-reason", "duplicate")
    page.fill("#bulk-note", "同一收卡广告")
    page.screenshot(path=artifacts / "queue-supervisor-bulk.png", full_page=True)
    with page.expect_navigation():
        page.click("#bulk-submit")
    assert "批量驳回：2 条成功" in page.inner_text("#flash")
    for i in (a, b):
        got = _status(console, i)
        assert (got["status"], got["decided_by"], got["outcome"]) == ("dismissed", "sam", "duplicate")
    took = [e for e in _events(console, a) if e["action"] == "alert.claimed"][-1]
    assert took["actor"] == "sam" and took["payload"]["previous_assignee"] == "olga"


def test_an_overdue_critical_alert_notifies_the_supervisor_on_shift(browser, console, artifacts):
    ctx = browser.new_context(base_url=console.base_url, locale="zh-CN", timezone_id="Asia/Shanghai",
                              viewport={"width": 1280, "height": 900})
    ctx.grant_permissions(["notifications"], origin=console.base_url)
    ctx.add_init_script(RECORD_NOTIFICATIONS)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        login(page, "sam", next_path="/console/?source=life-forum")
        assert page.locator("#queue-empty").count() == 1
        wait_until(page, "() => document.getElementById('live-state').textContent.includes('实时')")
        # Opened 15 minutes minus 3 seconds ago: its 15-minute deadline passes while sam watches.
        alert_id = seed_alert(console.services, "我不想活了 今晚就结束", "self_harm", "life-forum",
                              datetime.now(timezone.utc) - timedelta(minutes=15) + timedelta(seconds=3))
        # The live stream brings the new row in without a reload, with its countdown.
        page.wait_for_selector(f'tr.alert-row[data-alert-id="{alert_id}"]')
        wait_until(page, "() => window.__notes.some(n => n.title === '紧急告警')")
        wait_until(page, "() => window.__notes.some(n => n.title === '超时通报')")
        titles = page.evaluate("window.__notes.map(n => n.title)")
        assert "紧急告警已超时" in titles
        assert page.locator(".toast").filter(has_text="超时通报").count() == 1
        assert page.title().startswith("(")
        assert page.get_attribute("html", "data-last-beep")
        assert "已超时" in page.inner_text(f'tr.alert-row[data-alert-id="{alert_id}"] .countdown')
        page.screenshot(path=artifacts / "queue-overdue-critical.png", full_page=True)
    finally:
        ctx.close()
    passed = [e for e in _events(console, alert_id) if e["action"] == "alert.deadline_passed"]
    assert len(passed) == 1 and "sam" in passed[0]["payload"]["notified"] and passed[0]["actor"] == "system"


def test_a_masked_number_is_revealed_for_an_officer_with_an_audit_event_and_refused_to_an_auditor(new_page, console,
                                                                                                 artifacts):
    alert_id = seed_alert(console.services, "曝光此人 手机13812345678 家住临江市解放路12号3栋201室", "pii_leak",
                          "pii-forum")
    auditor = new_page()
    login(auditor, "audrey", next_path=f"/console/alerts/{alert_id}")
    auditor.click(".masked >> nth=0")
    auditor.wait_for_selector("#reveal-error:not([hidden])")
    assert "无权查看完整身份信息" in auditor.inner_text("#reveal-error")
    assert "13812345678" not in auditor.inner_text("#post-text")

    page = new_page()
    login(page, "olga", next_path=f"/console/alerts/{alert_id}")
    text = page.inner_text("#post-text")
    assert "138****5678" in text and "13812345678" not in text and "解放路" not in text
    page.screenshot(path=artifacts / "alert-masked.png", full_page=True)
    page.click(".masked >> nth=0")
    page.wait_for_selector(".masked.revealed")
    assert "13812345678" in page.inner_text("#post-text") and "解放路" not in page.inner_text("#post-text")
    reveals = [e for e in _events(console, alert_id) if e["action"] == "identifier.revealed"]
    assert [(e["actor"], e["payload"]) for e in reveals] == [("olga", {"index": 0, "kind": "mobile"})]


def test_violent_text_is_blurred_until_clicked_and_grayscale_mode_sticks(new_page, console, artifacts):
    alert_id = seed_alert(console.services, "明天去学校砍人 带刀", "violence_terror", "harm-forum",
                          datetime.now(timezone.utc) - timedelta(minutes=1))
    page = new_page()
    login(page, "olga", next_path=f"/console/alerts/{alert_id}")
    blur = page.eval_on_selector("#frozen-text", "el => getComputedStyle(el).filter")
    assert "blur" in blur
    page.screenshot(path=artifacts / "alert-blurred.png", full_page=True)
    page.click("#unblur-button")
    assert page.eval_on_selector("#frozen-text", "el => getComputedStyle(el).filter") == "none"
    # The decision panel stays on screen on a long page.
    assert page.eval_on_selector("#actions", "el => getComputedStyle(el).position") == "sticky"
    page.click("#grayscale-toggle")
    page.goto("/console/")
    assert "grayscale" in page.eval_on_selector("html", "el => getComputedStyle(el).filter")
    page.screenshot(path=artifacts / "queue-grayscale.png", full_page=True)
    page.click("#grayscale-toggle")


def test_the_post_pages_back_link_works_and_the_demo_recorded_its_source_passes(new_page, console, artifacts):
    page = new_page()
    login(page, "olga", next_path="/console/sources")
    assert page.locator("#sources tbody tr").count() >= 5, "every demo source's pass is recorded"
    page.screenshot(path=artifacts / "sources.png", full_page=True)
    with console.api("olga") as api:
        alert = api.get("/api/alerts", params={"source": "demo-market"}).json()["items"][0]
    page.goto(f"/console/posts/{alert['post_id']}")
    page.screenshot(path=artifacts / "post.png", full_page=True)
    page.click("#back-link")
    page.wait_for_url(f"**/console/alerts/{alert['id']}")
    assert page.locator("#alert-detail").get_attribute("data-alert-id") == alert["id"]
