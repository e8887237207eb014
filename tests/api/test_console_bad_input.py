"""Bad input at the console: a forged or stale form, a decision on an alert someone else decided a
second earlier, an unknown filter value, a reveal without the role. Each gets a Chinese message
that says what happened; nothing is changed; nothing the officer typed is lost."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from api.deadline_watch import check_once
from patrol.reviews import Decision
from tests.api.test_console import csrf_of, login

NOTE = "已电话核实，当事人情绪稳定 <b>不要丢</b>"
ESCAPED_NOTE = "已电话核实，当事人情绪稳定 &lt;b&gt;不要丢&lt;/b&gt;"


@pytest.fixture
def people(app):
    clients = {}
    for name in ("alice", "bob", "audrey"):
        c = TestClient(app, raise_server_exceptions=False)
        assert login(c, name).status_code == 303
        clients[name] = c
    yield clients
    for c in clients.values():
        c.close()


def _audit_count(services) -> int:
    return services.store.latest_audit_seq()


def test_a_forged_decision_form_changes_nothing_and_gives_the_note_back(people, seed, services):
    alice = people["alice"]
    a, _ = seed.post("出冰 同城", category="drugs")
    services.store.claim(a, "alice", datetime.now(timezone.utc))
    before = _audit_count(services)
    r = alice.post(f"/console/alerts/{a}/decision", data={"csrf_token": "forged", "action": "dismiss",
                                                         "reason": "duplicate", "note": NOTE})
    assert r.status_code == 403 and "CSRF 校验失败" in r.text and "未作任何更改" in r.text
    assert f">{ESCAPED_NOTE}</textarea>" in r.text
    assert 'value="dismiss" checked' not in r.text, "a forged form's choices are not kept ready to send"
    assert services.store.get_alert(a).alert.status == "claimed" and _audit_count(services) == before


def test_a_decision_on_an_alert_decided_a_second_earlier_names_who_and_keeps_the_input(people, seed, services):
    alice = people["alice"]
    a, _ = seed.post("出冰 同城 二", category="drugs")
    now = datetime.now(timezone.utc)
    services.store.claim(a, "alice", now)
    page = alice.get(f"/console/alerts/{a}")  # alice has the form open ...
    # ... a supervisor takes the alert over and decides it a second before alice submits.
    services.store.add_user("sue2", "supervisor", "pw-sue2-secret-long")
    services.store.claim(a, "sue2", now)
    services.store.decide(a, Decision("dismiss", reason="duplicate"), "sue2", now)
    before = _audit_count(services)
    r = alice.post(f"/console/alerts/{a}/decision", data={"csrf_token": csrf_of(page.text), "action": "confirm",
                                                         "disposition": "reported", "note": NOTE})
    assert r.status_code == 409
    message = re.search(r'id="form-error" role="alert">([^<]+)<', r.text).group(1)
    assert message.startswith("操作未完成：sue2 已于") and "驳回" in message and "您的结论未提交" in message
    assert not re.search(r"[A-Za-z]{4,}", message.replace("sue2", "")), message
    d = services.store.get_alert(a).alert
    assert d.status == "dismissed" and d.decided_by == "sue2" and _audit_count(services) == before


def test_a_missing_field_is_worded_in_chinese_and_every_typed_value_is_kept(people, seed, services):
    alice = people["alice"]
    a, _ = seed.post("我不想活了", category="self_harm")
    services.store.claim(a, "alice", datetime.now(timezone.utc))
    page = alice.get(f"/console/alerts/{a}")
    r = alice.post(f"/console/alerts/{a}/decision", data={"csrf_token": csrf_of(page.text), "action": "escalate",
                                                         "note": ""})
    assert r.status_code == 422 and "上报主管时须填写备注" in r.text
    assert 'value="escalate" checked' in r.text
    r = alice.post(f"/console/alerts/{a}/decision", data={"csrf_token": csrf_of(page.text), "action": "dismiss",
                                                         "reason": "other", "note": ""})
    assert "驳回理由为“其他”时须在备注中说明原因" in r.text and 'value="other" selected' in r.text
    r = alice.post(f"/console/alerts/{a}/notes", data={"csrf_token": "stale", "text": NOTE})
    assert r.status_code == 403 and f">{ESCAPED_NOTE}</textarea>" in r.text
    assert services.store.get_alert(a).alert.status == "claimed" and services.store.get_alert(a).notes == []


@pytest.mark.parametrize("param, value, says", [
    ("category", "赌博", "类别“赌博”不存在"), ("severity", "extreme", "严重程度“extreme”不存在"),
    ("status", "closed", "状态“closed”不存在"), ("sort", "random", "排序方式“random”不存在"),
    ("source", "nowhere", "信源“nowhere”不存在"), ("assignee", "audrey", "处理人“audrey”不是值班员或主管"),
])
def test_an_unknown_filter_value_is_named_and_the_other_filters_are_kept(people, param, value, says):
    r = people["alice"].get("/console/", params={param: value, "q": "保留的关键词"})
    assert r.status_code == 400 and says in r.text
    assert 'value="保留的关键词"' in r.text


def test_a_forged_cursor_gets_a_chinese_message(people):
    r = people["alice"].get("/console/", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and "翻页标记已失效" in r.text


def test_a_reveal_needs_a_reviewers_role_and_is_audited(people, seed, services):
    a, _ = seed.post("帮帮我 手机13812345678", category="self_harm")
    audrey = people["audrey"]
    page = audrey.get(f"/console/alerts/{a}")  # a view is audited too (alert.viewed): count after it
    before = _audit_count(services)
    assert "138****5678" in page.text and "13812345678" not in page.text
    r = audrey.post(f"/console/alerts/{a}/reveal", data={"index": 0, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 403 and "无权查看完整身份信息" in r.json()["error"] and "value" not in r.json()
    assert _audit_count(services) == before, "a refused reveal is not a reveal"

    alice = people["alice"]
    page = alice.get(f"/console/alerts/{a}")
    assert alice.post(f"/console/alerts/{a}/reveal", data={"index": 0, "csrf_token": "x"}).status_code == 403
    assert alice.post(f"/console/alerts/{a}/reveal", data={"index": 5, "csrf_token": csrf_of(page.text)}).status_code == 404
    r = alice.post(f"/console/alerts/{a}/reveal", data={"index": 0, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and r.json() == {"index": 0, "kind": "mobile", "value": "13812345678"}
    event = services.store.audit_events(after_seq=before, limit=10)[-1]
    assert (event.action, event.actor, event.subject) == ("identifier.revealed", "alice", f"alert:{a}")
    assert event.payload == {"index": 0, "kind": "mobile"}, "the audit names the identifier, never its value"


def test_a_passed_self_harm_deadline_tells_the_supervisors_once_and_is_audited(seed, services):
    from datetime import timedelta
    services.store.add_user("sam", "supervisor", "pw-sam-secret-long")
    now = datetime.now(timezone.utc)
    late, _ = seed.post("我不想活了", category="self_harm", opened_at=now - timedelta(hours=1))
    drugs_late, _ = seed.post("出冰", category="drugs", opened_at=now - timedelta(hours=5))
    services.store.touch_presence("sam", now)  # sam is on shift; sue (never seen) is not
    breaches = check_once(services.store, now)
    assert [(b.alert_id, b.notified, b.on_shift) for b in breaches] == [(late, ("sam",), True)]
    assert check_once(services.store, now) == [], "noticed once"
    notes = services.store.notifications_for("sam")
    assert [n["alert_id"] for n in notes] == [late] and "已超时" in notes[0]["text"]
    assert services.store.notifications_for("sue") == []
    event = [e for e in services.store.get_alert(late).history if e.action == "alert.deadline_passed"]
    assert len(event) == 1 and event[0].payload["notified"] == ["sam"] and event[0].payload["overdue_seconds"] > 0
    assert not [e for e in services.store.get_alert(drugs_late).history if e.action == "alert.deadline_passed"]
    assert services.store.verify_audit().ok
