"""Officers' labels over HTTP and in the console (issue 15): a corrected category on confirm,
labels from the recall sample and from search, the figures, the model list, bad input."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from tests.api.test_console import csrf_of, login


def _claim_and_decide(api, who, alert_id, body):
    assert api.post(who, f"/api/alerts/{alert_id}/claim").status_code == 200
    return api.post(who, f"/api/alerts/{alert_id}/decision", json=body)


def test_confirm_with_a_corrected_category_labels_the_post_with_it(api, seed, services):
    alert_id, post_id = seed.post("刷单返利 日结", category="fraud")
    r = _claim_and_decide(api, "alice", alert_id, {"action": "confirm", "disposition": "reported", "category": "gambling"})
    assert r.status_code == 200, r.text
    labels = api.get("alice", f"/api/labels/posts/{post_id}").json()
    assert [(x["category"], x["predicted"], x["labelled_by"], x["decision"]) for x in labels] == \
        [("gambling", "fraud", "alice", "confirm")]


def test_a_corrected_category_that_is_not_a_harm_category_is_a_422_and_decides_nothing(api, seed, services):
    alert_id, post_id = seed.post("刷单返利 日结", category="fraud")
    for bad in ("politics", "none"):
        r = _claim_and_decide(api, "alice", alert_id, {"action": "confirm", "disposition": "reported", "category": bad})
        assert r.status_code == 422, r.text
    r = api.post("alice", f"/api/alerts/{alert_id}/decision",
                 json={"action": "dismiss", "reason": "false_positive", "category": "fraud"})
    assert r.status_code == 422 and "only confirm" in r.text
    assert services.store.get_alert(alert_id).alert.status == "claimed"
    assert services.store.post_labels(post_id) == []


def test_labels_from_search_and_the_recall_sample_and_their_refusals(api, seed, services):
    _, quiet = seed.post("今天去公园散步", category="none", alert=False)
    r = api.post("alice", "/api/labels", json={"post_id": quiet, "category": "none", "origin": "search"})
    assert r.status_code == 201 and r.json()["origin"] == "search"
    assert api.post("alice", "/api/labels", json={"post_id": "no-such-post", "category": "none"}).status_code == 404
    r = api.post("alice", "/api/labels", json={"post_id": quiet, "category": "politics"})
    assert r.status_code == 422
    assert api.post("audrey", "/api/labels", json={"post_id": quiet, "category": "none"}).status_code == 403
    assert [x.category for x in services.store.post_labels(quiet)] == ["none"]


def test_the_recall_sample_is_drawn_by_supervisors_labelled_and_counted(api, seed, services):
    quiet = [seed.post(f"普通帖子 {i}", category="none", alert=False)[1] for i in range(6)]
    seed.post("出冰 同城", category="drugs")
    assert api.post("alice", "/api/recall-sample", json={"size": 4}).status_code == 403
    drawn = api.post("sue", "/api/recall-sample", json={"size": 4, "seed": 3}).json()
    assert len(drawn) == 4 and {p["post_id"] for p in drawn} <= set(quiet)
    queue = api.get("alice", "/api/recall-sample").json()
    assert [p["post_id"] for p in queue] == [p["post_id"] for p in drawn]
    r = api.post("alice", "/api/labels", json={"post_id": drawn[0]["post_id"], "category": "drugs",
                                              "origin": "recall_sample"})
    assert r.status_code == 201
    assert len(api.get("alice", "/api/recall-sample").json()) == 3
    figures = api.get("alice", "/api/labels/figures").json()
    assert figures["interval"] == "95% Wilson score interval"
    assert figures["miss_rate"]["drugs"]["k"] == 1 and figures["miss_rate"]["drugs"]["n"] == 1


def test_the_model_list_and_classify_with_the_model_in_use(api, services):
    models = api.get("audrey", "/api/models").json()
    assert models["current"] == "bundled" and models["versions"] == []
    assert models["in_use"] == services.analyzer.model_version
    got = api.post("alice", "/api/models/classify", json={"text": "出冰，同城面交，加薇"}).json()
    assert got["model_version"] == services.analyzer.model_version and got["primary"] == "drugs"


def test_the_console_labelling_page_labels_with_one_form_per_post(client, seed, services):
    quiet = [seed.post(f"普通帖子 {i}", category="none", alert=False)[1] for i in range(3)]
    services.store.draw_recall_sample(datetime.now(timezone.utc).date(), 3, datetime.now(timezone.utc), seed=1)
    assert login(client, "alice").status_code == 303
    page = client.get("/console/labelling")
    assert page.status_code == 200 and 'id="recall-queue" data-count="3"' in page.text
    keys = re.findall(r'data-key="([^"]+)"', page.text)
    assert len(set(keys)) == 11 and "n" in keys  # one key per category, none is n
    first = re.search(r'data-post-id="([^"]+)"', page.text).group(1)
    r = client.post("/console/labelling/label", data={"csrf_token": csrf_of(page.text), "post_id": first,
                                                      "category": "fraud", "origin": "recall_sample"})
    assert r.status_code == 200 and "已标注" in r.text and 'data-count="2"' in r.text
    assert [x.category for x in services.store.post_labels(first)] == ["fraud"]
    # a forged form and an unknown category are refused with a message and store nothing
    r = client.post("/console/labelling/label", data={"csrf_token": "forged", "post_id": quiet[1], "category": "none"})
    assert "CSRF" in r.text
    r = client.post("/console/labelling/label", data={"csrf_token": csrf_of(page.text), "post_id": quiet[1],
                                                      "category": "politics"})
    assert "未知类别" in r.text
    assert services.store.post_labels(quiet[1]) == []


def test_the_console_search_labelling_and_model_pages(client, seed, services):
    _, post_id = seed.post("兼职刷单日结", category="fraud", alert=False)
    assert login(client, "alice").status_code == 303
    page = client.get("/console/labelling", params={"q": "刷单"})
    assert page.status_code == 200 and f'data-post-id="{post_id}"' in page.text
    bad = client.get("/console/labelling", params={"q": '"unclosed'})
    assert bad.status_code == 400 and "检索" in bad.text
    models = client.get("/console/models")
    assert models.status_code == 200 and 'id="model-current">bundled<' in models.text


def test_the_confirm_form_offers_the_corrected_category(client, seed, services):
    alert_id, post_id = seed.post("刷单返利 日结", category="fraud")
    assert login(client, "alice").status_code == 303
    page = client.get(f"/console/alerts/{alert_id}")
    client.post(f"/console/alerts/{alert_id}/claim", data={"csrf_token": csrf_of(page.text)})
    page = client.get(f"/console/alerts/{alert_id}")
    assert 'id="confirm-category"' in page.text
    r = client.post(f"/console/alerts/{alert_id}/decision", data={
        "csrf_token": csrf_of(page.text), "action": "confirm", "disposition": "reported", "category": "gambling"})
    assert r.status_code == 200
    assert [x.category for x in services.store.post_labels(post_id)] == ["gambling"]
