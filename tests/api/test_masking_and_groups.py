"""What the console and the JSON API show of an alert (issue 11, leftovers): identifiers masked in
both unless a reviewer asks (audited the same way with and without JavaScript), a group's size in
the queue and in the API's alert shape, counts of cases rather than of alert rows, and the note
field labelled."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.test_console import csrf_of, login

PHONE, MASKED = "13812345678", "138****5678"
AD = "高价收卡，一张三百，当天结算，联系微信 shuadan_778，手机13812345678，长期有效，诚信合作"


@pytest.fixture
def officer_web(app):
    c = TestClient(app, raise_server_exceptions=False)
    assert login(c, "alice").status_code == 303
    yield c
    c.close()


@pytest.fixture
def auditor_web(app):
    c = TestClient(app, raise_server_exceptions=False)
    assert login(c, "audrey").status_code == 303
    yield c
    c.close()


def _reveals(services, alert_id):
    return [e for e in services.store.audit_events(limit=500, action="identifier.revealed")
            if e.subject == f"alert:{alert_id}"]


def test_a_reveal_without_javascript_is_a_form_that_redraws_the_page_and_is_audited_like_the_js_path(
        officer_web, seed, services):
    a, _ = seed.post(f"帮帮我 手机{PHONE}", category="self_harm")
    page = officer_web.get(f"/console/alerts/{a}")
    assert MASKED in page.text and PHONE not in page.text
    form = re.search(r'<form method="post" action="/console/alerts/[^"]+/reveal" class="inline reveal-form">(.*?)</form>',
                     page.text, re.S)
    assert form and 'name="show" value="page"' in form.group(1) and 'name="index" value="0"' in form.group(1)
    r = officer_web.post(f"/console/alerts/{a}/reveal",
                         data={"index": 0, "show": "page", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert PHONE in r.text and "已显示 1 项完整身份信息" in r.text
    assert [(e.actor, e.payload) for e in _reveals(services, a)] == [("alice", {"index": 0, "kind": "mobile"})]


def test_a_reveal_form_without_the_role_or_with_a_stale_token_says_so_in_chinese_and_reveals_nothing(
        officer_web, auditor_web, seed, services):
    a, _ = seed.post(f"帮帮我 手机{PHONE}", category="self_harm")
    page = auditor_web.get(f"/console/alerts/{a}")
    assert "reveal-form" not in page.text, "the form is offered only to the roles that may use it"
    r = auditor_web.post(f"/console/alerts/{a}/reveal", data={"index": 0, "show": "page", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 403 and "无权查看完整身份信息" in r.text and PHONE not in r.text
    r = officer_web.post(f"/console/alerts/{a}/reveal", data={"index": 0, "show": "page", "csrf_token": "stale"})
    assert r.status_code == 403 and "CSRF 校验失败" in r.text and PHONE not in r.text
    page = officer_web.get(f"/console/alerts/{a}")
    r = officer_web.post(f"/console/alerts/{a}/reveal", data={"index": 7, "show": "page", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 404 and PHONE not in r.text
    assert _reveals(services, a) == []


def test_the_json_api_masks_identifiers_unless_a_reviewer_asks_to_reveal_which_is_audited(api, seed, services):
    a, _ = seed.post(f"帮帮我 手机{PHONE}", category="self_harm", title=f"求助 {PHONE}")
    listed = api.get("alice", "/api/alerts").json()["items"]
    shown = next(i for i in listed if i["id"] == a)
    assert PHONE not in shown["title"] + shown["excerpt"] and MASKED in shown["excerpt"]
    masked = api.get("alice", f"/api/alerts/{a}").json()
    assert masked["masked"] is True and PHONE not in str(masked) and MASKED in masked["post"]["text"]
    assert len(masked["post"]["analysed_text"]) == len(f"求助 {PHONE}\n帮帮我 手机{PHONE}"), "offsets still hold"
    assert _reveals(services, a) == []
    refused = api.get("audrey", f"/api/alerts/{a}", params={"reveal": "true"})
    assert refused.status_code == 403 and _reveals(services, a) == []
    full = api.get("alice", f"/api/alerts/{a}", params={"reveal": "true"}).json()
    assert full["masked"] is False and PHONE in full["post"]["text"] and PHONE in full["title"]
    assert [e.payload for e in _reveals(services, a)] == [{"index": 0, "kind": "mobile", "via": "api"},
                                                          {"index": 1, "kind": "mobile", "via": "api"}]
    claimed = api.post("alice", f"/api/alerts/{a}/claim").json()
    assert claimed["masked"] is True and PHONE not in claimed["post"]["text"]


def test_a_group_shows_its_size_in_the_queue_and_the_api_and_counts_once(api, officer_web, seed, services):
    lead, _ = seed.post(AD, category="fraud")
    member, _ = seed.post(AD.replace("三百", "三佰"), category="fraud")
    assert services.store.get_alert(member).alert.group_id == lead
    item = next(i for i in api.get("alice", "/api/alerts").json()["items"] if i["id"] == lead)
    assert item["group_size"] == 2 and item["group_id"] is None
    assert all(i["id"] != member for i in api.get("alice", "/api/alerts").json()["items"])
    assert api.get("alice", f"/api/alerts/{member}").json()["group_id"] == lead
    page = officer_web.get("/console/")
    row = re.search(rf'<tr class="alert-row[^"]*" data-alert-id="{lead}".*?</tr>', page.text, re.S).group(0)
    assert 'data-group-size="2"' in row and "共 2 帖" in row
    counts = services.store.counts()
    assert counts["alerts"] == 1 and counts["alert_group_members"] == 1
    assert counts["alerts_by_status"] == {"open": 1}
    assert re.search(r'data-status="open">待处理 <b>1</b>', page.text), "the queue's chip counts the case once"


def test_the_note_field_has_a_label(officer_web, seed):
    a, _ = seed.post("出冰 同城", category="drugs")
    page = officer_web.get(f"/console/alerts/{a}").text
    assert re.search(r'<label for="note-text">[^<]+</label>', page) and 'id="note-text"' in page
