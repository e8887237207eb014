"""Alerts made for one browser test, through the real rules, store and index of the live console
(the demo's own alerts are shared by every test; these belong to the test that made them)."""
from __future__ import annotations

from datetime import datetime, timezone
from itertools import count

from nlp.analysis import Analysis
from patrol.alerts import evaluate_rules, load_rules
from patrol.posts import RawPost
from patrol.store import PostRecord
from search.index import IndexedPost

_n = count(1)


def seed_alert(services, text: str, category: str, source: str, opened_at: datetime | None = None,
               title: str = "") -> str:
    n = next(_n)
    now = opened_at or datetime.now(timezone.utc)
    raw = RawPost(source=source, url=f"https://bbs.example.cn/t/{source}/{n}", external_id=f"{source}-{n}",
                  text=text, title=title, author=f"user{n}", published_at=now, fetched_at=now,
                  content_sha256=f"{n:064x}")
    analysis = Analysis(primary=category, labels=(category,), scores={category: 0.95}, evidence=(), trail=(),
                        normalised=text, model_version="browser-test")
    alert = evaluate_rules(raw, analysis, load_rules(), now)
    services.store.save_batch([PostRecord.from_raw(raw, analysis)], [alert], now)
    services.index.add([IndexedPost(id=raw.id, source=source, url=raw.url, title=title, text=text, author=raw.author,
                                    published_at=now, fetched_at=now, primary=category, categories=(category,),
                                    status="open")])
    return alert.id
