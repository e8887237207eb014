"""The dashboard, the shift handover (交接班), the audit view and the administration pages' data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from patrol.taxonomy import LABEL_ZH

DEFAULT_SHIFT = timedelta(hours=12)
MAX_SHIFT = timedelta(days=7)
# The dashboard and the handover are summaries over every alert: at 100,000 alerts one reading
# costs a few hundred ms on SQLite, so a reading is reused for this long (per app, per question).
SUMMARY_TTL = timedelta(seconds=30)


def cached(cache: dict, key, at: datetime, compute):
    """compute() at most once per SUMMARY_TTL for `key`; the value says when it was read."""
    hit = cache.get(key)
    if hit is not None and at - hit[0] < SUMMARY_TTL:
        return hit[1]
    value = compute()
    cache[key] = (at, value)
    return value


def dashboard(svc, days: int, at: datetime) -> dict:
    data = dict(svc.store.dashboard(at, days), read_at=at)
    # ECharts reads one JSON object from the page (no inline script: the CSP forbids it).
    data["chart"] = {
        "days": data["days"],
        "per_category": [{"name": LABEL_ZH.get(k, k), "data": v} for k, v in data["per_category"].items()],
        "queue_age": [{"name": label, "value": n} for label, n in data["queue_age"]],
        "throughput": [{"name": k, "data": v} for k, v in data["throughput"].items()],
    }
    return data


def shift_window(start: str, end: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the shift from the form (ISO times, China time when no zone is given); the
    last 12 hours by default. ValueError in Chinese saying which field is wrong."""
    cst = timezone(timedelta(hours=8))

    def parse(value: str, name: str) -> datetime | None:
        if not value:
            return None
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name}时间格式应为 YYYY-MM-DDTHH:MM，收到 {value!r}") from None
        return t if t.tzinfo else t.replace(tzinfo=cst)

    hi = parse(end, "交班") or now
    lo = parse(start, "接班") or hi - DEFAULT_SHIFT
    if lo >= hi:
        raise ValueError("接班时间必须早于交班时间。")
    if hi - lo > MAX_SHIFT:
        raise ValueError("一次交接最多覆盖 7 天。")
    return lo.astimezone(timezone.utc), hi.astimezone(timezone.utc)


def handover(svc, start: datetime, end: datetime, at: datetime) -> dict:
    return dict(svc.store.handover(start, end, at), read_at=at)


def lexicon_files(svc) -> list[dict]:
    """The lexicon files in use: name, number of entries (non-blank, non-comment lines)."""
    directory = Path(svc.analyzer.lexicon.directory)
    rows = []
    for path in sorted(directory.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        rows.append({"name": path.name, "entries": sum(1 for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))})
    return rows
