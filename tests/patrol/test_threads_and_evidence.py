"""Thread context in the alert rules and the evidence kept for an alert: a helper reply in a
self-harm thread raises no fraud alert; the page is kept, both hashes re-check, the package's
SHA256SUMS verify, and retention purges old pages but not those an active alert needs."""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

import nlp
from nlp.analyzer import Analyzer
from patrol import evidence
from patrol.alerts import load_rules
from patrol.ingest import Ingestor
from patrol.posts import RawPost, post_sha256, sha256_hex
from patrol.store import Store
from patrol.threads import helper_labels, load_thread_rules
from search.sqlite_index import SqliteIndex

from tests.patrol.conftest import NOW

PAGE = ("<html><body><div id='post_1'>我真的不想活了，今晚就吃药自杀，活着太累了</div>"
        "<div id='post_2'>楼主你在哪？快拨打110！加我微信 nuanyang_bz 我陪你说说话。</div></body></html>").encode("utf-8")
SUICIDE = "我真的不想活了，今晚就吃药自杀，活着太累了"
HELPER = "楼主你在哪？快拨打110！加我微信 nuanyang_bz 我陪你说说话。"
BAIT = "加我微信 nuanyang_bz 领取返利，日结"


def floor(pid: str, text: str, parent: str = "", page: bytes = b"") -> RawPost:
    return RawPost(source="city-forum", url=f"http://127.0.0.1/t/7#{pid}", external_id=f"7-{pid}", text=text,
                   published_at=NOW, fetched_at=NOW, content_sha256=sha256_hex(PAGE), thread_id="7",
                   parent_external_id=parent, page_body=page)


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    # The bundled lexicons plus a contact-bait term a site might add: with it, the helper's
    # "加我微信" reads as fraud to the analyser, which is the case the thread rule is for.
    lex = tmp_path_factory.mktemp("lex") / "lexicons"
    shutil.copytree(Path(nlp.__file__).parent / "data" / "lexicons", lex)
    with (lex / "fraud.txt").open("a", encoding="utf-8") as f:
        f.write("加我微信\t0.9\n")
    return Analyzer.default(lexicon_dir=lex)


@pytest.fixture
def parts(tmp_path, analyzer):
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}", password_rounds=4)
    index = SqliteIndex(tmp_path / "index.sqlite")
    yield store, Ingestor(store, index, analyzer, load_rules(), clock=lambda: NOW)
    index.close()
    store.close()


def test_the_helper_reply_reads_as_fraud_on_its_own(analyzer):
    assert "fraud" in analyzer.analyse(HELPER).labels  # so the next test shows the rule at work


def test_a_helper_reply_in_a_self_harm_thread_raises_no_fraud_alert_but_the_post_it_answers_does(parts):
    store, ingestor = parts
    report = ingestor.ingest([floor("1", SUICIDE, page=PAGE), floor("2", HELPER, parent="7-1")])
    cats = {a.category for a in store.list_alerts().items}
    assert report.alerts_opened == 1 and cats == {"self_harm"}
    # The same words with no harmful parent are still an alert.
    other = RawPost(source="city-forum", url="http://127.0.0.1/t/8", external_id="8-1", text=BAIT,
                    published_at=NOW, fetched_at=NOW, content_sha256="cd" * 32)
    assert ingestor.ingest([other]).alerts_opened == 1


def test_the_thread_context_shows_the_parent_and_the_replies(parts):
    store, ingestor = parts
    ingestor.ingest([floor("1", SUICIDE, page=PAGE), floor("2", HELPER, parent="7-1")])
    first, reply = (RawPost(source="city-forum", url="", external_id=e, text="x").id for e in ("7-1", "7-2"))
    ctx = store.thread_context(first)
    assert [r.text for r in ctx.replies] == [HELPER] and ctx.parent is None
    assert store.thread_context(reply).parent.text == SUICIDE


def test_helper_rules_never_drop_a_life_risk_label(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("helper_replies:\n  - {parent: [self_harm], phrases: [热线], not_for: [self_harm]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="life-risk"):
        load_thread_rules(bad)
    assert "self_harm" not in helper_labels("请拨打110", ["self_harm"], load_thread_rules())


def test_the_page_is_kept_and_both_hashes_recheck_and_the_package_verifies(parts):
    store, ingestor = parts
    ingestor.ingest([floor("1", SUICIDE, page=PAGE), floor("2", HELPER, parent="7-1")])
    alert = store.list_alerts().items[0]
    ev = evidence.collect(store, alert.id)
    assert ev.page_sha256.state == "match" and ev.post_sha256.state == "match"
    assert ev.post_sha256.recorded == post_sha256("", SUICIDE) != post_sha256("", HELPER)
    zf = zipfile.ZipFile(io.BytesIO(evidence.package(ev, {"report.html": b"<p>x</p>"})))
    assert sha256_hex(zf.read("page.bin")) == alert.content_sha256
    assert sha256_hex(zf.read("post.txt")) == ev.post_sha256.recorded
    for line in zf.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ")
        assert sha256_hex(zf.read(name)) == digest, name
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["history"][0]["action"] == "alert.opened" and manifest["fetched_at"] == NOW.isoformat()


def test_a_page_that_does_not_hash_to_its_post_is_refused_naming_the_post(parts):
    store, ingestor = parts
    bad = floor("1", SUICIDE, page=PAGE + b"tampered")
    with pytest.raises(ValueError, match="7-1.*does not hash"):
        ingestor.ingest([bad])
    assert store.counts()["posts"] == 0  # nothing of the batch was stored


def test_retention_purges_old_pages_unless_an_active_alert_needs_them(parts):
    store, ingestor = parts
    ingestor.ingest([floor("1", SUICIDE, page=PAGE)])
    plain = b"<html>ordinary page</html>"
    ingestor.ingest([RawPost(source="city-forum", url="http://127.0.0.1/t/9", external_id="9-1", text="今天天气不错",
                             fetched_at=NOW, content_sha256=sha256_hex(plain), page_body=plain)])
    later = NOW + timedelta(days=200)
    assert evidence.purge_pages(store, 180, later) == 1  # the ordinary page; the alert's page stays
    assert store.get_page(sha256_hex(plain)) is None and store.get_page(sha256_hex(PAGE)) is not None
    with pytest.raises(ValueError):
        evidence.purge_pages(store, 0, later)
