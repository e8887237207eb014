"""The console's queue and alert page for a shift: counts, any-label filter, pick-lists, sort,
saved views, supervisor bulk and assignment, per-category dispositions, protection, live stream."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from api.routes import console_live
from patrol.reviews import Decision
from tests.api.conftest import password_of
from tests.api.test_console import csrf_of, login


def rows(html: str) -> list[str]:
    return re.findall(r'class="alert-row[^"]*" data-alert-id="([^"]+)"', html)


@pytest.fixture
def officer(client):
    assert login(client, "alice").status_code == 303
    return client


@pytest.fixture
def supervisor(app):
    from fastapi.testclient import TestClient
    with TestClient(app, raise_server_exceptions=False) as c:
        assert login(c, "sue").status_code == 303
        yield c


def _labelled(seed, text: str, labels: tuple[str, ...], source: str = "city-forum") -> str:
    """An alert whose lead label is labels[0] and which carries the others too."""
    from nlp.analysis import Analysis
    from patrol.alerts import evaluate_rules
    from patrol.posts import RawPost
    from patrol.store import PostRecord
    now = datetime.now(timezone.utc)
    raw = RawPost(source=source, url=f"https://bbs.example.cn/{text}", external_id=text, text=text, title="",
                  author="u", published_at=now, fetched_at=now, content_sha256="0" * 64)
    analysis = Analysis(primary=labels[0], labels=labels, scores={l: 0.9 for l in labels}, evidence=(), trail=(),
                        normalised=text, model_version="t")
    alert = evaluate_rules(raw, analysis, seed.rules, now)
    seed.svc.store.save_batch([PostRecord.from_raw(raw, analysis)], [alert], now)
    return alert.id


def test_the_category_filter_finds_an_alert_by_any_of_its_labels(officer, seed):
    led_by_fraud = _labelled(seed, "菠.菜 刷单返利", ("fraud", "gambling"))
    only_gambling = _labelled(seed, "百家乐 上分", ("gambling",))
    _labelled(seed, "出冰", ("drugs",))
    assert set(rows(officer.get("/console/", params={"category": "gambling"}).text)) == {led_by_fraud, only_gambling}
    assert rows(officer.get("/console/", params={"category": "fraud"}).text) == [led_by_fraud]


def test_counts_per_status_and_severity_and_overdue(officer, seed, services):
    late, _ = seed.post("我不想活了", category="self_harm", opened_at=datetime.now(timezone.utc) - timedelta(hours=1))
    fresh_one, _ = seed.post("出冰 同城", category="drugs")
    seed.post("出冰 同城 2", category="drugs")
    services.store.claim(late, "alice", datetime.now(timezone.utc))
    html = officer.get("/console/").text
    counts = dict(re.findall(r'data-status="(\w+)">[^<]*<b>(\d+)</b>', html))
    assert counts["open"] == "2" and counts["claimed"] == "1" and counts["escalated"] == "0"
    assert "confirmed" not in counts, "decided statuses are counted only when asked for"
    services.store.bulk([fresh_one], Decision("dismiss", reason="duplicate"), "alice", datetime.now(timezone.utc))
    asked = dict(re.findall(r'data-status="(\w+)">[^<]*<b>(\d+)</b>', officer.get("/console/?status=dismissed").text))
    assert asked["dismissed"] == "1"
    severities = dict(re.findall(r'data-severity="(\w+)">[^<]*<b>(\d+)</b>', html))
    assert severities["critical"] == "1" and severities["high"] == "2"
    assert re.search(r'id="overdue-count">已超时 <b>1</b>', html)


def test_source_and_assignee_are_pick_lists_and_sort_is_offered(officer, seed):
    seed.post("出冰", category="drugs", source="harbour-forum")
    html = officer.get("/console/").text
    source_select = re.search(r'<select name="source" id="filter-source">(.*?)</select>', html, re.S).group(1)
    assert 'value="harbour-forum"' in source_select
    assignee_select = re.search(r'<select name="assignee" id="filter-assignee">(.*?)</select>', html, re.S).group(1)
    assert 'value="alice"' in assignee_select and 'value="sue"' in assignee_select
    assert 'value="audrey"' not in assignee_select, "auditors review nothing"
    old, _ = seed.post("出冰 旧", category="drugs", opened_at=datetime.now(timezone.utc) - timedelta(hours=1))
    new, _ = seed.post("出冰 新", category="drugs")
    assert rows(officer.get("/console/", params={"sort": "newest", "q": "出冰 "}).text)[:2] == [new, old]
    assert rows(officer.get("/console/", params={"sort": "oldest", "q": "出冰 "}).text)[:2] == [old, new]


def test_a_saved_view_is_listed_and_opens_its_filters(officer):
    page = officer.get("/console/", params={"category": "drugs"})
    r = officer.post("/console/views", data={"csrf_token": csrf_of(page.text), "name": "毒品未结",
                                             "query": "category=drugs"}, follow_redirects=False)
    assert r.status_code == 303
    html = officer.get("/console/").text
    assert re.search(r'<a href="/console/\?category=drugs" class="view-link" data-view="毒品未结">', html)


def test_an_officer_sees_no_claim_on_an_escalated_alert_a_supervisor_sees_take_over(officer, supervisor, seed, services):
    now = datetime.now(timezone.utc)
    escalated, _ = seed.post("出冰 上报", category="drugs")
    services.store.claim(escalated, "bob", now)
    from patrol.reviews import Decision
    services.store.decide(escalated, Decision("escalate", note="请主管看"), "bob", now)
    held, _ = seed.post("出冰 已认领", category="drugs")
    services.store.claim(held, "bob", now)
    html = officer.get(f"/console/alerts/{escalated}").text
    assert 'id="claim-button"' not in html and "已上报主管，由主管处理" in html
    assert 'id="claim-button"' not in officer.get(f"/console/alerts/{held}").text
    assert re.search(r'id="claim-button"[^>]*>接管<', supervisor.get(f"/console/alerts/{held}").text)
    queue = officer.get("/console/").text
    assert f'data-alert-id="{escalated}">认领' not in queue and f'data-alert-id="{held}">' not in queue


def test_a_supervisor_takes_over_and_bulk_dismisses_with_each_step_audited(supervisor, seed, services):
    now = datetime.now(timezone.utc)
    a, _ = seed.post("出冰 一", category="drugs")
    b, _ = seed.post("出冰 二", category="drugs")
    services.store.claim(a, "alice", now)
    page = supervisor.get("/console/")
    token = csrf_of(page.text)
    r = supervisor.post("/console/bulk", data={"csrf_token": token, "ids": [a, b], "bulk_action": "claim"})
    assert "批量认领/接管：2 条成功" in r.text
    assert {services.store.get_alert(i).alert.assignee for i in (a, b)} == {"sue"}
    r = supervisor.post("/console/bulk", data={"csrf_token": token, "ids": [a, b], "bulk_action": "dismiss",
                                               "reason": "duplicate", "note": "同一广告"})
    assert "批量驳回：2 条成功" in r.text
    for alert_id in (a, b):
        d = services.store.get_alert(alert_id)
        assert d.alert.status == "dismissed" and d.alert.decided_by == "sue"
    taken = [e for e in services.store.get_alert(a).history if e.action == "alert.claimed"]
    assert taken[-1].actor == "sue" and taken[-1].payload["previous_assignee"] == "alice"


def test_bulk_is_for_supervisors_only_and_a_refused_item_is_named_in_chinese(officer, supervisor, seed, services):
    a, _ = seed.post("出冰 三", category="drugs")
    r = officer.post("/console/bulk", data={"csrf_token": csrf_of(officer.get("/console/").text), "ids": [a],
                                            "bulk_action": "claim"})
    assert "批量操作仅限主管" in r.text and services.store.get_alert(a).alert.status == "open"
    r = supervisor.post("/console/bulk", data={"csrf_token": csrf_of(supervisor.get("/console/").text),
                                               "ids": [a, "no-such-alert"], "bulk_action": "dismiss", "reason": ""})
    assert "驳回时须选择驳回理由" in r.text and services.store.get_alert(a).alert.status == "open"


def test_a_supervisor_assigns_an_alert_to_an_officer(supervisor, seed, services):
    a, _ = seed.post("出冰 四", category="drugs")
    page = supervisor.get(f"/console/alerts/{a}")
    r = supervisor.post(f"/console/alerts/{a}/assign", data={"csrf_token": csrf_of(page.text), "assignee": "bob"})
    assert "已指派给 bob" in r.text
    d = services.store.get_alert(a)
    assert d.alert.status == "claimed" and d.alert.assignee == "bob"
    assert d.history[-1].action == "alert.assigned" and d.history[-1].actor == "sue"


def test_self_harm_offers_its_own_dispositions_and_refuses_another_categorys(officer, seed, services):
    a, _ = seed.post("我不想活了", category="self_harm")
    services.store.claim(a, "alice", datetime.now(timezone.utc))
    html = officer.get(f"/console/alerts/{a}").text
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>',
                         re.search(r'id="disposition">(.*?)</select>', html, re.S).group(1))
    assert options[:2] == [("police_called", "已报警"), ("rescue_contacted", "已联系救助")]
    assert "victim_warned" not in dict(options)
    r = officer.post(f"/console/alerts/{a}/decision", data={"csrf_token": csrf_of(html), "action": "confirm",
                                                          "disposition": "victim_warned", "note": "已核实"})
    assert r.status_code == 422 and "不适用于此类别" in r.text and "已核实</textarea>" in r.text
    assert services.store.get_alert(a).alert.status == "claimed"


def test_identifiers_are_masked_in_the_queue_and_the_detail(officer, seed):
    a, _ = seed.post("帮帮我 手机13812345678 家住临江市解放路12号3栋201室", category="self_harm")
    queue = officer.get("/console/").text
    detail = officer.get(f"/console/alerts/{a}").text
    for html in (queue, detail):
        assert "13812345678" not in html and "138****5678" in html
        assert "解放路12号" not in html
    assert 'class="masked" role="button"' in detail


def test_sexual_or_violent_text_is_blurred_and_a_minor_gets_a_banner(officer, seed):
    from nlp.analysis import Evidence
    a, _ = seed.post("幼女 资源", category="porn_sexual",
                     evidence=(Evidence("porn_sexual", "lexicon", "minor:幼女", 0, 2, "幼女"),))
    html = officer.get(f"/console/alerts/{a}").text
    assert 'id="frozen-text" class="blurred"' in html and 'id="unblur-button"' in html
    assert 'id="minor-banner"' in html and "涉未成年" in html


def test_the_live_stream_sends_changed_alert_ids_and_notifications(officer, seed, services, monkeypatch):
    monkeypatch.setattr(console_live, "STREAM_SECONDS", 2.5)
    monkeypatch.setattr(console_live, "POLL_SECONDS", 0.2)
    a, _ = seed.post("出冰 五", category="drugs")
    seq = services.store.latest_audit_seq()
    services.store.claim(a, "bob", datetime.now(timezone.utc))
    with officer.stream("GET", "/console/live", headers={"Last-Event-ID": f"{seq}.0"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    assert "event: hello" in body
    assert f"event: alerts\ndata: {{\"ids\": [\"{a}\"]}}" in body
