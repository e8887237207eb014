import multiprocessing
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from patrol.alerts import evaluate_rules, source_health_alert
from patrol.reviews import Decision, DecisionError, PermissionDenied, TransitionError
from patrol.store import AlertFilter, InvalidFilter, NotFound, Store, metadata

# --- migrations ---------------------------------------------------------------------------


def test_migrations_create_every_table_on_an_empty_database(db_url):
    store = Store(db_url, password_rounds=4)
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"posts", "post_versions", "alerts", "notes", "users", "audit", "audit_head", "source_health",
            "crawl_state", "store_meta", "alembic_version", "alert_group_keys", "fetched_pages",
            "alert_labels", "deadline_breaches", "notifications", "console_presence", "saved_views"} <= names
    from alembic.script import ScriptDirectory

    from patrol.store.database import MIGRATIONS_DIR

    # The head of the migrations directory, whichever revision that is after merges.
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None and {"sessions", "login_limits"} <= names
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
    store.close()


def test_opening_a_migrated_database_again_keeps_its_data(db_url, make, rules):
    first = Store(db_url, password_rounds=4)
    make.post_with_alert(first, rules)
    first.close()
    second = Store(db_url, password_rounds=4)
    assert second.counts()["alerts"] == 1 and second.verify_audit().ok
    second.close()


def test_migrations_downgrade_to_nothing_and_upgrade_again(db_url):
    from alembic import command
    from alembic.config import Config

    from patrol.store.database import MIGRATIONS_DIR

    store = Store(db_url, password_rounds=4)
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(sa.inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.close()
    again = Store(db_url, password_rounds=4)
    assert again.counts()["posts"] == 0 and again.verify_audit().ok
    again.close()


def test_failed_pass_counts_kept_as_crawl_state_move_to_their_column(db_url):
    from alembic import command
    from alembic.config import Config

    from patrol.store.database import MIGRATIONS_DIR

    store = Store(db_url, password_rounds=4)
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        conn.execute(sa.text("INSERT INTO source_health (source, items_last_pass, errors_last_pass, "
                             "consecutive_empty, passes) VALUES ('blog', 0, '{}', 0, 4)"))
        conn.execute(sa.text("INSERT INTO crawl_state (source, key, value, updated_at) VALUES "
                             "('blog', 'health', '{\"consecutive_failed\": 4}', CURRENT_TIMESTAMP)"))
    store.close()
    again = Store(db_url, password_rounds=4)
    (health,) = again.source_health()
    assert (health.consecutive_failed, health.passes) == (4, 4)
    assert again.get_crawl_state("blog", "health") is None
    again.close()


def test_migrated_schema_matches_the_tables_the_code_uses(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


# --- posts and versions -------------------------------------------------------------------

def test_new_post_is_stored_as_version_1(store, make):
    r = make.raw(title="出货", text="冰 同城")
    report = store.save_batch([make.record(r, make.analysis("drugs"))], [], make.now)
    assert report.new_post_ids == [r.id] and report.changed_post_ids == [r.id]
    post = store.get_post(r.id)
    assert (post.version, post.title, post.text, post.primary, post.labels) == (1, "出货", "冰 同城", "drugs", ("drugs",))
    assert post.first_seen == make.now and post.published_at == r.published_at and not post.indexed
    assert [v.version for v in store.post_versions(r.id)] == [1]


def test_edited_post_becomes_version_2_of_the_same_post(store, make):
    store.save_batch([make.record(make.raw(text="第一版"))], [], make.now)
    store.mark_indexed([make.raw().id])
    later = make.now + timedelta(hours=1)
    edited = make.raw(text="第二版", fetched_at=later)
    report = store.save_batch([make.record(edited)], [], later)
    assert report.edited_post_ids == [edited.id]
    post = store.get_post(edited.id)
    assert (post.version, post.text, post.fetched_at, post.first_seen) == (2, "第二版", later, make.now)
    assert not post.indexed  # the index must pick up the new text
    assert [(v.version, v.text) for v in store.post_versions(edited.id)] == [(1, "第一版"), (2, "第二版")]
    assert store.counts()["posts"] == 1


def test_unchanged_post_only_refreshes_its_fetch_time(store, make):
    store.save_batch([make.record(make.raw())], [], make.now)
    later = make.now + timedelta(hours=1)
    report = store.save_batch([make.record(make.raw(fetched_at=later))], [], later)
    assert report.unchanged_post_ids == [make.raw().id] and report.changed_post_ids == []
    post = store.get_post(make.raw().id)
    assert (post.version, post.fetched_at) == (1, later)


def test_post_deleted_upstream_keeps_its_evidence(store, make):
    store.save_batch([make.record(make.raw(text="证据原文"))], [], make.now)
    gone = make.raw(text="", deleted_upstream=True)
    report = store.save_batch([make.record(gone)], [], make.now)
    assert report.deleted_post_ids == [gone.id]
    post = store.get_post(gone.id)
    assert post.deleted_upstream and post.text == "证据原文" and post.version == 1


def test_one_batch_can_mix_new_unchanged_edited_and_deleted_posts(store, make):
    store.save_batch([make.record(make.raw(k, text=k)) for k in ("same", "edit", "gone")], [], make.now)
    batch = [make.raw("same", text="same"), make.raw("edit", text="edit v2"),
             make.raw("gone", deleted_upstream=True), make.raw("fresh")]
    report = store.save_batch([make.record(r) for r in batch], [], make.now)
    ids = {r.external_id: r.id for r in batch}
    assert (report.unchanged_post_ids, report.edited_post_ids, report.deleted_post_ids, report.new_post_ids) == (
        [ids["same"]], [ids["edit"]], [ids["gone"]], [ids["fresh"]])
    assert [store.get_post(ids[k]).version for k in ("same", "edit", "gone", "fresh")] == [1, 2, 1, 1]


def test_two_versions_of_a_post_in_one_batch_are_both_kept(store, make):
    report = store.save_batch([make.record(make.raw(text="初稿")), make.record(make.raw(text="改稿"))], [], make.now)
    post_id = make.raw().id
    assert (report.new_post_ids, report.edited_post_ids) == ([post_id], [post_id])
    assert [v.text for v in store.post_versions(post_id)] == ["初稿", "改稿"]


def test_changes_are_classified_against_what_is_stored(store, make):
    store.save_batch([make.record(make.raw("a", text="x")), make.record(make.raw("b", text="y"))], [], make.now)
    raws = [make.raw("a", text="x"), make.raw("b", text="y2"), make.raw("c"), make.raw("a", deleted_upstream=True)]
    assert store.classify_changes(raws) == ["unchanged", "edited", "new", "deleted"]


def test_unindexed_posts_are_listed_until_marked_indexed(store, make):
    store.save_batch([make.record(make.raw(str(i))) for i in range(3)], [], make.now)
    ids = store.unindexed_post_ids()
    assert len(ids) == 3
    store.mark_indexed(ids[:2])
    assert store.unindexed_post_ids() == ids[2:]


def test_indexing_an_old_version_leaves_a_newer_edit_unindexed(store, make):
    store.save_batch([make.record(make.raw(text="v1"))], [], make.now)
    seen_by_indexer = store.get_post(make.raw().id)
    store.save_batch([make.record(make.raw(text="v2"))], [], make.now)  # another crawler, meanwhile
    store.mark_indexed([seen_by_indexer])
    assert store.unindexed_post_ids() == [seen_by_indexer.id]
    store.mark_indexed([store.get_post(seen_by_indexer.id)])
    assert store.unindexed_post_ids() == []


def test_every_post_is_iterated_once_in_id_order_across_pages(store, make):
    store.save_batch([make.record(make.raw(str(i), text=f"post {i}")) for i in range(5)], [], make.now)
    posts = list(store.iter_posts(page_size=2))
    assert [p.id for p in posts] == sorted(p.id for p in posts) and len(posts) == 5
    assert {p.text for p in posts} == {f"post {i}" for i in range(5)}
    assert list(store.iter_posts(page_size=5)) == posts  # a full last page ends the scan too


def test_post_with_a_forged_id_is_refused(store, make):
    bad = make.record(make.raw()).__class__(**{**make.record(make.raw()).__dict__, "id": "not-the-id"})
    with pytest.raises(ValueError, match="post_id_for"):
        store.save_batch([bad], [], make.now)


def test_naive_times_are_refused(store, make):
    with pytest.raises(sa.exc.StatementError, match="timezone-aware"):
        store.save_batch([make.record(make.raw(fetched_at=datetime(2026, 11, 24, 8, 0)))], [], make.now)
    assert store.counts()["posts"] == 0


# --- opening alerts -----------------------------------------------------------------------

def test_alert_is_opened_with_its_audit_event(store, make, rules):
    _, alert = make.post_with_alert(store, rules)
    detail = store.get_alert(alert.id, now=make.now)
    assert detail.alert.status == "open" and detail.alert.text == alert.text and not detail.overdue
    assert [e.action for e in detail.history] == ["alert.opened"]
    assert detail.history[0].payload["category"] == "drugs"


def test_post_that_already_has_an_alert_gets_no_second_one(store, make, rules):
    _, first = make.post_with_alert(store, rules)
    r = make.raw(text="出冰 第二版")
    again = evaluate_rules(r, make.analysis("fraud"), rules, make.now)
    report = store.save_batch([make.record(r)], [again], make.now)
    assert report.opened_alert_ids == [] and report.skipped_alert_ids == [again.id]
    assert store.counts()["alerts"] == 1
    assert len(store.audit_events(action="alert.opened")) == 1


def test_alert_freezes_the_version_it_was_raised_on(store, make, rules):
    store.save_batch([make.record(make.raw(text="无害"))], [], make.now)
    r = make.raw(text="出冰 同城")
    alert = evaluate_rules(r, make.analysis("drugs"), rules, make.now)
    store.save_batch([make.record(r)], [alert], make.now)
    assert store.get_alert(alert.id).alert.post_version == 2


def test_failed_batch_writes_nothing(store, make, rules):
    ok = make.raw("ok")
    orphan = evaluate_rules(make.raw("never-saved"), make.analysis("drugs"), rules, make.now)
    with pytest.raises(ValueError, match="neither stored nor in this batch"):
        store.save_batch([make.record(ok)], [orphan], make.now)
    assert store.counts()["posts"] == 0 and store.counts()["audit_events"] == 0


def test_alert_is_overdue_after_its_sla(store, make, rules):
    _, alert = make.post_with_alert(store, rules)  # drugs: 2 h
    assert not store.get_alert(alert.id, now=make.now + timedelta(hours=2)).overdue
    assert store.get_alert(alert.id, now=make.now + timedelta(hours=2, seconds=1)).overdue
    assert store.counts(now=make.now + timedelta(hours=3))["alerts_overdue"] == 1


def test_one_active_source_health_alert_per_source(store, make):
    first = store.open_source_health_alert("city-forum", "3 empty passes", make.now)
    assert first is not None
    assert store.open_source_health_alert("city-forum", "4 empty passes", make.now + timedelta(hours=1)) is None
    assert store.open_source_health_alert("other-forum", "timeouts", make.now) is not None
    assert [e.action for e in store.get_alert(first.id).history] == ["source.health_alert"]


def test_a_source_can_alert_again_once_its_last_health_alert_is_decided(store, people, make):
    first = store.open_source_health_alert("city-forum", "3 empty passes", make.now)
    store.claim(first.id, "li", make.now)
    store.decide(first.id, Decision("dismiss", reason="other", note="forum maintenance"), "li", make.now)
    assert store.open_source_health_alert("city-forum", "3 empty passes", make.now + timedelta(days=1)) is not None


# --- concurrency --------------------------------------------------------------------------

def _crawler(url, batches, errors):
    try:
        store = Store(url, password_rounds=4)
        for posts, alerts, now in batches:
            store.save_batch(posts, alerts, now)
        store.close()
    except Exception as exc:  # pragma: no cover - reported by the test
        errors.append(repr(exc))


def _same_batches(make, rules, n_posts=40, batch=8):
    """What two crawlers that found the same posts would each try to save."""
    out = []
    for start in range(0, n_posts, batch):
        posts, alerts = [], []
        for i in range(start, start + batch):
            r = make.raw(f"p{i}", text=f"出冰 同城 {i}")
            an = make.analysis("drugs")
            posts.append(make.record(r, an))
            alerts.append(evaluate_rules(r, an, rules, make.now))
        out.append((posts, alerts, make.now))
    return out


def test_concurrent_crawler_threads_never_open_two_alerts_for_one_post_nor_fork_the_audit(db_url, make, rules):
    Store(db_url, password_rounds=4).close()
    batches = _same_batches(make, rules)
    errors: list[str] = []
    threads = [threading.Thread(target=_crawler, args=(db_url, batches, errors)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    store = Store(db_url, password_rounds=4)
    assert store.counts()["alerts"] == 40 and store.counts()["posts"] == 40
    assert len(store.audit_events(action="alert.opened", limit=1000)) == 40
    assert store.verify_audit().ok and store.verify_audit().checked == 40
    store.close()


@pytest.mark.slow
def test_concurrent_crawler_processes_never_open_two_alerts_for_one_post(db_url, make, rules):
    Store(db_url, password_rounds=4).close()
    batches = _same_batches(make, rules, n_posts=24, batch=6)
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Manager().list()
    procs = [ctx.Process(target=_crawler, args=(db_url, batches, errors)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0] and list(errors) == []
    store = Store(db_url, password_rounds=4)
    assert store.counts()["alerts"] == 24
    assert store.verify_audit().ok and store.verify_audit().checked == 24
    store.close()


def test_two_officers_claiming_at_once_one_wins_the_other_is_told_who(db_url, people, make, rules, store):
    _, alert = make.post_with_alert(store, rules)
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def claim(name):
        own = Store(db_url, password_rounds=4)
        barrier.wait()
        try:
            own.claim(alert.id, name, make.now)
            results[name] = "won"
        except TransitionError as exc:
            results[name] = str(exc)
        own.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("li", "wang")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winner = [n for n, r in results.items() if r == "won"]
    assert len(winner) == 1
    loser = ({"li", "wang"} - set(winner)).pop()
    assert f"claimed by {winner[0]}" in results[loser]
    assert store.get_alert(alert.id).alert.assignee == winner[0]
    assert store.verify_audit().ok


# --- the review workflow through the store ------------------------------------------------

def test_claim_decide_and_note_are_stored_with_their_history(store, people, make, rules):
    _, alert = make.post_with_alert(store, rules)
    store.claim(alert.id, people["li"], make.now)
    note = store.add_note(alert.id, "li", "卖家还有别的帖子", make.now)
    decided = store.decide(alert.id, Decision("confirm", disposition="referred"), "li", make.now)
    assert decided.status == "confirmed"
    detail = store.get_alert(alert.id)
    assert (detail.alert.status, detail.alert.outcome, detail.alert.decided_by) == ("confirmed", "referred", "li")
    assert [n.text for n in detail.notes] == ["卖家还有别的帖子"] and detail.notes[0].id == note.id
    assert [e.action for e in detail.history] == ["alert.opened", "alert.claimed", "alert.note_added", "alert.decided"]


def test_refused_step_changes_nothing_and_audits_nothing(store, people, make, rules):
    _, alert = make.post_with_alert(store, rules)
    store.claim(alert.id, "li", make.now)
    before = store.counts()["audit_events"]
    with pytest.raises(TransitionError, match="claimed by li"):
        store.decide(alert.id, Decision("dismiss", reason="duplicate"), "wang", make.now)
    assert store.get_alert(alert.id).alert.status == "claimed"
    assert store.counts()["audit_events"] == before


def test_unknown_alert_and_unknown_user_are_refused(store, people, make, rules):
    with pytest.raises(NotFound, match="no alert"):
        store.claim("nope", "li", make.now)
    _, alert = make.post_with_alert(store, rules)
    with pytest.raises(PermissionDenied, match="no user"):
        store.claim(alert.id, "ghost", make.now)


def test_deactivated_user_is_refused_even_with_a_stale_user_value(store, people, make, rules):
    _, alert = make.post_with_alert(store, rules)
    store.set_user("li", "sun", make.now, active=False)
    with pytest.raises(PermissionDenied, match="deactivated"):
        store.claim(alert.id, people["li"], make.now)


def test_auditor_cannot_add_notes(store, people, make, rules):
    _, alert = make.post_with_alert(store, rules)
    with pytest.raises(PermissionDenied):
        store.add_note(alert.id, "qian", "looks fine", make.now)


def test_escalation_path_through_the_store(store, people, make, rules):
    _, alert = make.post_with_alert(store, rules)
    store.claim(alert.id, "li", make.now)
    store.decide(alert.id, Decision("escalate", note="可能涉及未成年人"), "li", make.now)
    with pytest.raises(PermissionDenied):
        store.claim(alert.id, "wang", make.now)
    store.claim(alert.id, "zhao", make.now)
    done = store.decide(alert.id, Decision("dismiss", reason="news_or_fiction"), "zhao", make.now)
    assert (done.status, done.escalated, done.decided_by) == ("dismissed", True, "zhao")


def test_bulk_reports_each_alert_on_its_own(store, people, make, rules):
    ids = [make.post_with_alert(store, rules, external_id=f"b{i}")[1].id for i in range(3)]
    store.claim(ids[1], "wang", make.now)
    outcomes = store.bulk(ids + ["missing"], Decision("dismiss", reason="duplicate"), "li", make.now)
    assert [(o.alert_id, o.ok, o.status) for o in outcomes] == [
        (ids[0], True, "dismissed"), (ids[1], False, None), (ids[2], True, "dismissed"), ("missing", False, None)]
    assert "claimed by wang" in outcomes[1].error and "no alert" in outcomes[3].error
    history = [e.action for e in store.get_alert(ids[0]).history]
    assert history == ["alert.opened", "alert.claimed", "alert.decided"]


def test_bulk_claim_and_refuses_unknown_actions(store, people, make, rules):
    ids = [make.post_with_alert(store, rules, external_id=f"c{i}")[1].id for i in range(2)]
    assert all(o.ok and o.status == "claimed" for o in store.bulk(ids, "claim", "li", make.now))
    with pytest.raises(InvalidFilter, match="bulk action"):
        store.bulk(ids, "delete", "li", make.now)


def test_decisions_export_as_training_labels(store, people, make, rules):
    _, a = make.post_with_alert(store, rules, external_id="x1", text="出冰")
    _, b = make.post_with_alert(store, rules, external_id="x2", text="禁毒宣传：远离冰毒")
    make.post_with_alert(store, rules, external_id="x3")  # still open: not a label yet
    store.bulk([a.id], Decision("confirm", disposition="reported"), "li", make.now)
    store.bulk([b.id], Decision("dismiss", reason="counter_speech"), "li", make.now)
    labels = {x.text: (x.category, x.decision, x.outcome, x.model_version) for x in store.export_labels()}
    assert labels == {"出冰": ("drugs", "confirm", "reported", "test-1"),
                      "禁毒宣传：远离冰毒": ("drugs", "dismiss", "counter_speech", "test-1")}


# --- listing alerts -----------------------------------------------------------------------

@pytest.fixture
def queue(store, people, make, rules):
    """Alerts of several severities opened a minute apart."""
    specs = [("q1", "abuse_hate"), ("q2", "self_harm"), ("q3", "fraud"), ("q4", "drugs"),
             ("q5", "gambling"), ("q6", "violence_terror"), ("q7", "drugs")]
    out = {}
    for i, (ext, cat) in enumerate(specs):
        _, alert = make.post_with_alert(store, rules, external_id=ext, labels=(cat,),
                                        now=make.now + timedelta(minutes=i), text=f"帖子 {ext} 100%_真")
        out[ext] = alert
    return out


def _all_pages(store, flt):
    items, cursor, pages = [], flt.cursor, 0
    while True:
        page = store.list_alerts(AlertFilter(**{**flt.__dict__, "cursor": cursor}))
        items += page.items
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return items, pages


def test_queue_is_sorted_by_severity_then_due_time(store, queue):
    items = store.list_alerts(AlertFilter()).items
    assert [a.post_id for a in items] == [queue[k].post_id for k in ("q2", "q6", "q3", "q4", "q7", "q5", "q1")]


@pytest.mark.parametrize("sort, order", [
    ("newest", ["q7", "q6", "q5", "q4", "q3", "q2", "q1"]),
    ("oldest", ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]),
    ("due", ["q2", "q6", "q3", "q4", "q7", "q5", "q1"]),
])
def test_other_sort_orders(store, queue, sort, order):
    assert [a.id for a in store.list_alerts(AlertFilter(sort=sort)).items] == [queue[k].id for k in order]


@pytest.mark.parametrize("sort", ["severity_then_due", "newest", "oldest", "due"])
def test_cursor_pages_cover_every_alert_once(store, queue, sort):
    items, pages = _all_pages(store, AlertFilter(sort=sort, limit=2))
    assert pages == 4 and sorted(a.id for a in items) == sorted(a.id for a in queue.values())
    assert [a.id for a in items] == [a.id for a in store.list_alerts(AlertFilter(sort=sort)).items]


def test_cursor_is_stable_when_alerts_arrive_between_pages(store, queue, make, rules):
    first = store.list_alerts(AlertFilter(sort="oldest", limit=3))
    make.post_with_alert(store, rules, external_id="late", labels=("self_harm",), now=make.now - timedelta(hours=1))
    rest, _ = _all_pages(store, AlertFilter(sort="oldest", limit=3, cursor=first.next_cursor))
    assert [a.id for a in first.items + rest] == [queue[k].id for k in ("q1", "q2", "q3", "q4", "q5", "q6", "q7")]


def test_filters_narrow_the_queue(store, queue, people, make):
    store.claim(queue["q4"].id, "li", make.now)
    assert {a.id for a in store.list_alerts(AlertFilter(category="drugs")).items} == {queue["q4"].id, queue["q7"].id}
    assert [a.id for a in store.list_alerts(AlertFilter(status="claimed")).items] == [queue["q4"].id]
    assert len(store.list_alerts(AlertFilter(status=("open", "claimed"))).items) == 7
    assert [a.id for a in store.list_alerts(AlertFilter(assignee="li")).items] == [queue["q4"].id]
    assert {a.category for a in store.list_alerts(AlertFilter(severity="critical")).items} == {"self_harm", "violence_terror"}
    assert store.list_alerts(AlertFilter(source="elsewhere")).items == []
    window = AlertFilter(opened_from=make.now + timedelta(minutes=2), opened_to=make.now + timedelta(minutes=4), sort="oldest")
    assert [a.id for a in store.list_alerts(window).items] == [queue["q3"].id, queue["q4"].id]


def test_text_search_is_a_literal_substring(store, queue):
    assert [a.id for a in store.list_alerts(AlertFilter(q="q3 100%_真")).items] == [queue["q3"].id]
    assert store.list_alerts(AlertFilter(q="q3 1000")).items == []
    assert store.list_alerts(AlertFilter(q="%")).items != []
    assert store.list_alerts(AlertFilter(q="Q3")).items[0].id == queue["q3"].id


@pytest.mark.parametrize("flt, message", [
    (AlertFilter(sort="random"), "sort must be one of"),
    (AlertFilter(limit=0), "limit"),
    (AlertFilter(limit=10_000), "limit"),
    (AlertFilter(status="pending"), "status"),
    (AlertFilter(severity="urgent"), "severity"),
    (AlertFilter(cursor="not-a-cursor"), "cursor"),
    (AlertFilter(opened_from=datetime(2026, 1, 1)), "time zone"),
])
def test_bad_filters_are_refused_naming_the_field(store, flt, message):
    with pytest.raises(InvalidFilter, match=message):
        store.list_alerts(flt)


def test_cursor_from_another_sort_is_refused(store, queue):
    cursor = store.list_alerts(AlertFilter(sort="newest", limit=2)).next_cursor
    with pytest.raises(InvalidFilter, match="cursor belongs to sort 'newest', not 'due'"):
        store.list_alerts(AlertFilter(sort="due", cursor=cursor))


# --- crawl state, source health, counts ---------------------------------------------------

def test_source_health_counts_consecutive_empty_passes(store, make):
    store.record_source_pass("city-forum", make.now, items=12)
    store.record_source_pass("city-forum", make.now + timedelta(minutes=15), items=0, errors={"timeout": 3})
    health = store.record_source_pass("city-forum", make.now + timedelta(minutes=30), items=0, errors={"http_503": 1})
    assert (health.consecutive_empty, health.passes, health.last_success_at) == (2, 3, make.now)
    [stored] = store.source_health()
    assert stored.errors_last_pass == {"http_503": 1} and stored.consecutive_empty == 2
    assert store.record_source_pass("city-forum", make.now + timedelta(hours=1), items=1).consecutive_empty == 0


def test_crawl_state_round_trips(store, make):
    assert store.get_crawl_state("city-forum", "last_id") is None
    store.set_crawl_state("city-forum", "last_id", {"tid": 123}, make.now)
    store.set_crawl_state("city-forum", "last_id", {"tid": 456}, make.now)
    assert store.get_crawl_state("city-forum", "last_id") == {"tid": 456}


def test_counts_summarise_posts_and_alerts(store, queue, people, make):
    store.open_source_health_alert("city-forum", "silent", make.now)
    counts = store.counts(now=make.now)
    assert counts["posts"] == 7 and counts["alerts"] == 8
    assert counts["alerts_by_status"] == {"open": 8}
    assert counts["alerts_by_category"]["drugs"] == 2 and counts["alerts_by_category"]["ops_source_health"] == 1
    assert counts["audit_events"] == 5 + 8


def test_source_health_alert_value_is_saved_like_any_alert(store, make):
    alert = source_health_alert("feed-x", "404 on every page", make.now)
    report = store.save_batch([], [alert], make.now)
    assert report.opened_alert_ids == [alert.id]
    assert store.get_alert(alert.id).alert.text == "404 on every page"


# --- what the database cannot hold, and a database that is locked ------------------------------


def test_keys_no_row_can_have_are_simply_not_found(store, people, make, rules):
    # PostgreSQL refuses a NUL even inside a lookup; a lone surrogate cannot be sent at all.
    make.post_with_alert(store, rules)
    for key in ("a\x00b", "\ud800"):
        assert store.get_alert(key) is None and store.get_post(key) is None and store.get_posts([key]) == []
        assert store.post_versions(key) == [] and store.get_user(key) is None
        assert store.alert_statuses([key]) == {}
        with pytest.raises(NotFound):
            store.claim(key, "li", make.now)
    assert store.authenticate("li\x00", "li-password", now=make.now) is None
    assert store.audit_events(action="user.login")[-1].subject == "user:(invalid name)"


@pytest.mark.parametrize("flt, message", [
    (AlertFilter(source="a\x00b"), "source"), (AlertFilter(q="\ud800"), "q"),
    (AlertFilter(opened_from=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))), "opened_from"),
])
def test_filter_values_the_database_cannot_compare_are_refused_naming_the_field(store, flt, message):
    with pytest.raises(InvalidFilter, match=message):
        store.list_alerts(flt)


def test_notes_and_decisions_with_a_nul_are_refused_and_nothing_is_written(store, people, make, rules):
    _, alert = make.post_with_alert(store, rules)
    store.claim(alert.id, "li", make.now)
    with pytest.raises(DecisionError, match="NUL"):
        store.add_note(alert.id, "li", "a\x00b", make.now)
    with pytest.raises(DecisionError, match="NUL"):
        Decision("escalate", note="look\x00")
    assert store.get_alert(alert.id).notes == []


def test_audit_filters_out_of_range_or_unstorable_are_refused(store):
    with pytest.raises(InvalidFilter, match="after_seq"):
        store.audit_events(after_seq=10**20)
    with pytest.raises(InvalidFilter, match="actor"):
        store.audit_events(actor="\x00")


def test_alert_statuses_answer_for_many_posts_in_one_call(store, people, make, rules):
    p1, a1 = make.post_with_alert(store, rules, "s1")
    p2, _ = make.post_with_alert(store, rules, "s2")
    store.claim(a1.id, "li", make.now)
    assert store.alert_statuses([p1.id, p2.id, "no-such-post"]) == {p1.id: "claimed", p2.id: "open"}


def test_a_locked_sqlite_database_is_store_unavailable_and_the_batch_can_be_saved_later(tmp_path, make):
    import sqlite3

    from patrol.store import StoreUnavailable

    path = tmp_path / "locked.db"
    store = Store(f"sqlite:///{path}", password_rounds=4)

    @sa.event.listens_for(store.engine, "connect")
    def _short_wait(dbapi_conn, _record):  # the real wait is 30 s; the test need not sit through it
        dbapi_conn.execute("PRAGMA busy_timeout=50")

    store.engine.dispose()
    record = make.record(make.raw("locked"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreUnavailable, match="locked"):
        store.save_batch([record], [], make.now)
    blocker.execute("ROLLBACK")
    blocker.close()
    assert store.get_post(record.id) is None
    assert store.save_batch([record], [], make.now).new_post_ids == [record.id]
    store.close()
