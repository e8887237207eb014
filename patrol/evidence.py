"""Evidence: the two hashes of an alert's post, re-checked, and the package an officer exports.

Two hashes stand beside each other (docs/EVIDENCE-AND-GROUPS.md):
- the post's own hash, SHA-256 of `patrol.posts.post_content_bytes(title, text)` of the copy
  frozen when the alert opened: a suicide post and the reply under it differ here;
- the page's hash, the `content_sha256` the collector computed over the bytes it fetched (the
  forum page, the feed entry, the API object), shared by every post on that page.
The page itself is kept compressed (patrol/store/pages.py) until retention purges it, so both can
be recomputed. `evidence_files` gathers what goes into the zip; the adapter that serves it adds
a printable report and its PDF.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from patrol.posts import post_content_bytes, sha256_hex

# How long a fetched page is kept when the settings say nothing (Settings.evidence).
DEFAULT_PAGE_RETENTION_DAYS = 180


@dataclass(frozen=True)
class HashCheck:
    """One hash, as recorded and as recomputed now from the kept bytes ('' when not kept)."""

    name: str
    recorded: str
    recomputed: str

    @property
    def ok(self) -> bool:
        return bool(self.recorded) and self.recorded == self.recomputed

    @property
    def state(self) -> str:
        if not self.recomputed:
            return "unavailable"  # never kept, or purged by retention
        return "match" if self.ok else "mismatch"


@dataclass(frozen=True)
class Evidence:
    alert_id: str
    post_sha256: HashCheck
    page_sha256: HashCheck
    page_url: str
    fetched_at: datetime | None
    page: bytes | None
    post_bytes: bytes
    manifest: dict[str, Any] = field(default_factory=dict)


def collect(store, alert_id: str, detail=None) -> Evidence:
    """The evidence of one alert, both hashes re-checked. NotFound for an unknown alert.
    `detail`: the alert's AlertDetail when the caller has just read it (the alert page), so it is
    not read again."""
    from patrol.store import NotFound  # the store imports this module's neighbours, not this one

    detail = detail if detail is not None and detail.alert.id == alert_id else store.get_alert(alert_id)
    if detail is None:
        raise NotFound(f"no alert {alert_id!r}")
    a = detail.alert
    post_bytes = post_content_bytes(a.title, a.text)
    own = sha256_hex(post_bytes)
    post_row = store.get_post(a.post_id) if a.post_id else None
    # The own hash recorded for the post version the alert froze; the post table keeps the latest.
    versions = {v.version: v for v in store.post_versions(a.post_id)} if a.post_id else {}
    frozen = versions.get(a.post_version)
    recorded_own = sha256_hex(post_content_bytes(frozen.title, frozen.text)) if frozen else own
    kept = store.get_page(a.content_sha256) if a.content_sha256 else None
    page_check = HashCheck("page_sha256", a.content_sha256, sha256_hex(kept.body) if kept else "")
    post_check = HashCheck("post_sha256", recorded_own, own)
    manifest = {
        "alert_id": a.id, "post_id": a.post_id, "post_version": a.post_version, "source": a.source,
        "url": a.url, "author": a.author, "category": a.category, "labels": list(a.labels),
        "severity": a.severity, "status": a.status,
        "published_at": a.published_at.isoformat() if a.published_at else None,
        "fetched_at": a.fetched_at.isoformat() if a.fetched_at else None,
        "opened_at": a.opened_at.isoformat(),
        "post_sha256": {"recorded": post_check.recorded, "of_post_txt": post_check.recomputed, "state": post_check.state},
        "page_sha256": {"recorded": page_check.recorded, "of_page_file": page_check.recomputed, "state": page_check.state,
                        "page_url": kept.url if kept else (post_row.url if post_row else a.url)},
        "post_txt": "title, U+001F, text, UTF-8 (patrol.posts.post_content_bytes)",
        "history": [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "payload": e.payload,
                     "hash": e.hash} for e in detail.history],
        "notes": [{"author": n.author, "at": n.created_at.isoformat(), "text": n.text} for n in detail.notes],
    }
    return Evidence(alert_id=a.id, post_sha256=post_check, page_sha256=page_check,
                    page_url=manifest["page_sha256"]["page_url"], fetched_at=a.fetched_at,
                    page=kept.body if kept else None, post_bytes=post_bytes, manifest=manifest)


def package(evidence: Evidence, extra: dict[str, bytes] | None = None) -> bytes:
    """The zip: post.txt, page.bin (when kept), manifest.json, SHA256SUMS, plus `extra` files
    (the report's HTML and PDF). SHA256SUMS lets `sha256sum -c` re-check every file."""
    files: dict[str, bytes] = {"post.txt": evidence.post_bytes}
    if evidence.page is not None:
        files["page.bin"] = evidence.page
    files["manifest.json"] = json.dumps(evidence.manifest, ensure_ascii=False, indent=2).encode("utf-8")
    files.update(extra or {})
    files["SHA256SUMS"] = "".join(f"{sha256_hex(body)}  {name}\n" for name, body in files.items()).encode("ascii")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            # A fixed date: the same evidence gives the same zip bytes.
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, body)
    return buf.getvalue()


def purge_pages(store, retention_days: int, now: datetime) -> int:
    """Retention for kept pages: drop those fetched more than `retention_days` ago that no active
    alert needs; returns how many. A step of `patrol retention run` (patrol/retention.py,
    PATROL_RETENTION__PAGES_DAYS)."""
    if retention_days < 1:
        raise ValueError(f"page retention must be at least 1 day, got {retention_days}")
    return store.purge_pages_before(now - timedelta(days=retention_days))
