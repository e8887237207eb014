"""The console's rules page changes what an administrator tunes (issue 11): a rule switched off or
on, its threshold moved; audited, applied to this process's ingest at once and to a process that
starts later; a bad threshold, an unknown rule, a stale form or another role gets a Chinese
message and changes nothing."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Services
from nlp.analysis import Analysis
from patrol.alerts import evaluate_rules
from patrol.posts import RawPost
from tests.api.test_console import csrf_of, login

PAGE = "/console/admin/rules"


@pytest.fixture
def web(app):
    clients = []

    def as_user(name):
        c = TestClient(app, raise_server_exceptions=False)
        assert login(c, name).status_code == 303
        clients.append(c)
        return c
    yield as_user
    for c in clients:
        c.close()


def _rule(services, name):
    return next(r for r in services.rules if r.name == name)


def _changes(services):
    return services.store.audit_events(limit=500, action="rule.changed")


def test_an_admin_moves_a_threshold_and_switches_a_rule_off_audited_and_applied(web, services, seed):
    adam = web("adam")
    page = adam.get(PAGE)
    assert page.status_code == 200 and 'action="/console/admin/rules/drugs%40default"' in page.text
    before = _rule(services, "drugs@default")
    r = adam.post(f"{PAGE}/drugs@default", data={"csrf_token": csrf_of(page.text), "min_score": "0.95"},
                  follow_redirects=True)
    assert "规则 drugs@default 已停用，阈值 0.95" in r.text
    row = re.search(r'<tr data-rule="drugs@default">.*?</tr>', r.text, re.S).group(0)
    assert '<td class="rule-threshold">0.95</td>' in row and '<td class="rule-enabled">否</td>' in row and "adam" in row
    assert (_rule(services, "drugs@default").enabled, _rule(services, "drugs@default").min_score) == (False, 0.95)
    [event] = _changes(services)
    assert (event.actor, event.subject) == ("adam", "rule:drugs@default")
    assert event.payload == {"before": {"enabled": before.enabled, "min_score": before.min_score},
                             "after": {"enabled": False, "min_score": 0.95}}
    # This process's ingest reads the same list: a drugs post no longer raises an alert.
    now = datetime.now(timezone.utc)
    raw = RawPost(source="city-forum", url="https://x.example/1", external_id="r1", text="出冰", title="",
                  author="u", published_at=now, fetched_at=now, content_sha256="0" * 64)
    an = Analysis(primary="drugs", labels=("drugs",), scores={"drugs": 0.99}, evidence=(), trail=(),
                  normalised="出冰", model_version="t")
    assert evaluate_rules(raw, an, services.ingestor.rules, now) is None
    # A process started later over the same database builds its rules with the change (the
    # composition root's Services, over this test's store: a second Store would key the chain).
    later = Services(services.settings)
    later.__dict__["store"] = services.store
    assert (_rule(later, "drugs@default").enabled, _rule(later, "drugs@default").min_score) == (False, 0.95)
    page = adam.get(PAGE)
    adam.post(f"{PAGE}/drugs@default", data={"csrf_token": csrf_of(page.text), "min_score": "0.5", "enabled": "on"})
    assert (_rule(services, "drugs@default").enabled, _rule(services, "drugs@default").min_score) == (True, 0.5)
    assert evaluate_rules(raw, an, services.ingestor.rules, now) is not None


@pytest.mark.parametrize("rule, score, message", [
    ("drugs@default", "abc", "阈值“abc”不是数字"),
    ("drugs@default", "1.5", "阈值须在 0 到 1 之间"),
    ("drugs@default", "nan", "阈值须在 0 到 1 之间"),
    ("drugs@default", "", "不是数字"),
    ("nothing@default", "0.5", "没有名为“nothing@default”的告警规则"),
])
def test_bad_input_gets_a_chinese_message_naming_the_rule_and_changes_nothing(web, services, rule, score, message):
    adam = web("adam")
    page = adam.get(PAGE)
    before = list(services.rules)
    r = adam.post(f"{PAGE}/{rule}", data={"csrf_token": csrf_of(page.text), "min_score": score, "enabled": "on"},
                  follow_redirects=True)
    assert "规则未修改" in r.text and message in r.text
    assert services.rules == before and services.store.rule_overrides() == {} and _changes(services) == []


def test_other_roles_and_stale_forms_change_nothing(web, services):
    for name in ("sue", "alice", "audrey"):
        c = web(name)
        page = c.get("/console/sources")  # any console page: a valid token of this session
        r = c.post(f"{PAGE}/drugs@default", data={"csrf_token": csrf_of(page.text), "min_score": "0.1"},
                   follow_redirects=True)
        assert "只有管理员可以修改告警规则" in r.text
    sue_page = web("sue").get(PAGE)
    assert sue_page.status_code == 200 and "rule-form" not in sue_page.text
    r = web("adam").post(f"{PAGE}/drugs@default", data={"csrf_token": "stale", "min_score": "0.1"})
    assert r.status_code == 403 and "CSRF 校验失败" in r.text
    assert services.store.rule_overrides() == {} and _changes(services) == []
