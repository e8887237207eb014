"""An officer reads an alert and decides it through the console, as on a duty shift."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from patrol.posts import analysed_text
from tests.browser.glyphs import missing_glyphs
from tests.browser.people import login

pytestmark = pytest.mark.browser

# Offsets of the <mark> children of an element, in code points like the API's evidence offsets
# (JavaScript's length counts UTF-16 units, and the demo posts carry emoji such as 💰).
MARKED_SPANS_JS = """el => {
  const spans = []; let pos = 0;
  for (const node of el.childNodes) {
    const n = Array.from(node.textContent).length;
    if (node.nodeType === Node.ELEMENT_NODE && node.tagName === 'MARK') spans.push([pos, pos + n, node.textContent]);
    pos += n;
  }
  return {text: el.textContent, spans: spans};
}"""


def _alert_with(client, text: str) -> dict:
    found = client.get("/api/alerts", params={"q": text, "status": "open,claimed,escalated,confirmed,dismissed"}).json()["items"]
    assert found, f"the demo data has no alert on a post containing {text!r}"
    return client.get(f"/api/alerts/{found[0]['id']}").json()


def _shown_post(page) -> tuple[str, list[tuple[int, int, str]]]:
    """The frozen post as the page shows it, as the analyzer's one string (title, newline, text),
    with the highlighted spans moved onto that string."""
    text = page.locator("#post-text").evaluate(MARKED_SPANS_JS)
    title_el = page.locator("#post-title")
    if title_el.count() == 0:
        return text["text"], [tuple(s) for s in text["spans"]]
    title = title_el.evaluate(MARKED_SPANS_JS)
    shift = len(title["text"]) + 1
    spans = [tuple(s) for s in title["spans"]] + [(a + shift, b + shift, t) for a, b, t in text["spans"]]
    return analysed_text(title["text"], text["text"]), spans


def test_an_obfuscated_post_is_shown_frozen_with_its_evidence_marked_and_its_normalisation_trail(officer_page, console,
                                                                                                 tmp_path):
    page = officer_page
    with console.api("olga") as api:
        alert = _alert_with(api, "bc_8899")
    page.fill("#filter-q", "bc_8899")
    page.click("#queue-filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#alert-queue tr.alert-row").count() == 1
    page.click(f'#alert-queue tr[data-alert-id="{alert["id"]}"] a.alert-link')
    assert urlsplit(page.url).path == f"/console/alerts/{alert['id']}"
    assert page.locator("#alert-detail").get_attribute("data-alert-id") == alert["id"]

    shown, spans = _shown_post(page)
    assert shown == analysed_text(alert["post"]["title"], alert["post"]["text"]), "the frozen text, intact"
    # Its evidence spans do not overlap, so each one is one <mark>, in the order of the text.
    evidence = sorted(alert["evidence"], key=lambda e: e["start"])
    assert [t for _, _, t in spans] == [e["text"] for e in evidence]
    assert [(a, b) for a, b, _ in spans] == [(e["start"], e["end"]) for e in evidence]
    assert "➕V" in [t for _, _, t in spans]
    # The evasion is made of emoji (➕, 💰): the officer must see them, not boxes.
    assert missing_glyphs(page, "#post-text", shown) == []

    trail = page.locator("#trail li")
    assert trail.count() >= 1 and page.locator("#trail").is_visible()
    shown_trail = [(li.locator(".orig").inner_text(), li.locator(".repl").inner_text()) for li in trail.all()]
    # Adjacent steps read as one change, so every step's original and replacement is inside one line.
    for step in alert["trail"]:
        assert any(step["original"] in o and step["replacement"] in r for o, r in shown_trail), (step, shown_trail)
    assert any("➕" in o and "加" in r for o, r in shown_trail), shown_trail
    assert page.dialogs == []
    page.screenshot(path=tmp_path / "alert.png", full_page=True)  # for a person to look at, with --basetemp


def test_the_normalisation_trail_names_every_kind_of_change_in_chinese(officer_page, console):
    page = officer_page
    with console.api("olga") as api:
        alert = _alert_with(api, "bc_8899")  # 菠.菜 → 博彩 is a separator and a homophone at once
    page.goto(f"/console/alerts/{alert['id']}")
    kinds = page.locator("#trail li small").all_inner_texts()
    assert kinds
    assert [k for k in kinds if re.search(r"[A-Za-z_+]", k)] == []


def test_overlapping_evidence_and_a_span_across_the_title_are_all_marked_on_the_original_text(officer_page, console):
    page = officer_page
    with console.api("olga") as api:
        # The drugs post: one evidence span runs from its title across the line break into its text.
        alert = _alert_with(api, "ldx_2026")
    page.goto(f"/console/alerts/{alert['id']}")

    shown, spans = _shown_post(page)
    assert shown == analysed_text(alert["post"]["title"], alert["post"]["text"])
    line_break = len(alert["post"]["title"]) if alert["post"]["title"] else None
    evidence_chars = {i for e in alert["evidence"] for i in range(e["start"], e["end"])} - {line_break}
    marked_chars = {i for a, b, _ in spans for i in range(a, b)}
    assert marked_chars == evidence_chars
    for e in alert["evidence"]:
        assert shown[e["start"]:e["end"]] == e["text"], e
    # The page's evidence table lists the same terms.
    table = page.locator("#evidence tbody tr").evaluate_all(
        "rows => rows.map(r => [Number(r.dataset.start), Number(r.dataset.end)])")
    assert sorted(map(tuple, table)) == sorted((e["start"], e["end"]) for e in alert["evidence"])


def test_claim_then_confirm_through_the_forms_while_a_second_officer_is_refused_the_claim(new_page, console):
    with console.api("olga") as api:
        queue = api.get("/api/alerts", params={"status": "open", "category": "fraud"}).json()["items"]
    assert queue, "the demo raises fraud alerts"
    alert_id = queue[0]["id"]
    row = f'#alert-queue tr.alert-row[data-alert-id="{alert_id}"]'

    olga, oscar = new_page(), new_page()
    # oscar's page gets no live updates (an old browser, or a click before the update arrives):
    # with them, the queue would swap olga's claim in and his stale button would be gone.
    oscar.context.add_init_script("window.EventSource = undefined;")
    for page, user in ((olga, "olga"), (oscar, "oscar")):
        login(page, user, next_path="/console/?category=fraud")
    # oscar's queue now shows the alert as open, with a claim button.
    assert oscar.locator(row).get_attribute("data-status") == "open"

    olga.click(f'.claim-button[data-alert-id="{alert_id}"]')
    olga.wait_for_load_state()
    assert olga.inner_text("#flash") == "已认领。"
    assert olga.locator(row).get_attribute("data-status") == "claimed"
    assert "olga" in olga.locator(row).inner_text()

    # oscar clicks on the queue he loaded before olga claimed it.
    oscar.click(f'.claim-button[data-alert-id="{alert_id}"]')
    oscar.wait_for_load_state()
    flash = oscar.locator("#flash")
    assert "flash-error" in flash.get_attribute("class")
    assert flash.inner_text().startswith("操作未完成")
    assert "olga" in flash.inner_text(), "the message says who holds it"
    assert oscar.locator(row).get_attribute("data-status") == "claimed"
    oscar.goto(f"/console/alerts/{alert_id}")
    assert oscar.inner_text("#alert-assignee") == "olga"
    assert oscar.locator("#claim-button").count() == 0
    assert oscar.locator("#decision-form").count() == 0

    olga.click(f"{row} a.alert-link")
    assert olga.locator("#alert-detail").get_attribute("data-assignee") == "olga"
    olga.check('#decision-form input[name="action"][value="confirm"]')
    # console.js shows only the field the chosen action needs.
    assert olga.locator("#disposition").is_visible()
    assert not olga.locator("#reason").is_visible()
    olga.select_option("#disposition", "reported")
    olga.fill("#decision-note", "已向平台举报")
    olga.click("#decide-button")
    olga.wait_for_load_state()
    assert olga.inner_text("#flash") == "结论已提交。"
    assert olga.locator("#alert-detail").get_attribute("data-status") == "confirmed"
    assert olga.inner_text("#alert-status") == "已确认"
    assert olga.inner_text("#alert-decision").startswith("确认违规（已举报处置） · olga")
    assert olga.locator("#decision-form").count() == 0

    # Off the open queue; under 已确认 with the new status.
    olga.click('#main-nav a[data-nav="queue"]')
    assert olga.locator(row).count() == 0
    olga.select_option("#filter-status", "confirmed")
    olga.click("#queue-filters button[type=submit]")
    olga.wait_for_load_state()
    assert olga.locator(row).get_attribute("data-status") == "confirmed"
    assert "已确认" in olga.locator(row).inner_text()

    with console.api("audrey") as auditor:
        events = auditor.get("/api/audit", params={"subject": f"alert:{alert_id}", "limit": 1000}).json()["events"]
        verification = auditor.get("/api/audit/verify").json()
    # Reading is audited too (alert.viewed), but it is not a change: the changes are the rest.
    assert ("alert.viewed", "oscar") in [(e["action"], e["actor"]) for e in events]
    steps = [(e["action"], e["actor"]) for e in events if e["action"] != "alert.viewed"]
    assert ("alert.claimed", "olga") in steps
    assert ("alert.decided", "olga") in steps
    assert not any(actor == "oscar" for _, actor in steps), "a refused claim changes nothing"
    decided = next(e for e in events if e["action"] == "alert.decided")
    assert decided["payload"]["disposition"] == "reported"
    assert decided["payload"]["note"] == "已向平台举报"
    assert verification["ok"] is True


def test_an_auditor_reads_an_alert_but_gets_no_review_forms(new_page, console):
    page = new_page()
    login(page, "audrey")
    first = page.locator("#alert-queue tr.alert-row").first
    assert first.locator(".claim-button").count() == 0
    first.locator("a.alert-link").click()
    assert page.locator("#alert-detail").count() == 1
    assert page.locator("#claim-button, #decision-form, #note-form").count() == 0
    assert "只读" in page.inner_text("#actions")
