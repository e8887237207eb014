"""The daily report renders as HTML and as a PDF whose pages, turned into images by pdftoppm
(Debian's poppler-utils), are not blank."""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.daily_report import CHROMIUM, write_report
from patrol.events.updater import EventUpdater
from patrol.posts import RawPost
from patrol.store import PostRecord, Store

TEXTS = ["长春市朝阳区红旗街一居民楼起火，浓烟滚滚，消防车已经赶到现场救援",
         "朝阳区红旗街居民楼起火了！浓烟很大，消防在救援，长春的朋友注意绕行",
         "长春红旗街居民楼起火现场，消防车来了好几辆，浓烟滚滚，希望没人受伤"]


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'p.db'}", password_rounds=4)
    at = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
    recs = [PostRecord.from_raw(RawPost(source=f"src{i}", url=f"http://127.0.0.1/{i}", external_id=str(i), text=t,
                                        published_at=at + timedelta(minutes=i), fetched_at=at + timedelta(minutes=5)))
            for i, t in enumerate(TEXTS)]
    s.save_batch(recs, [], at + timedelta(minutes=5))
    EventUpdater(s.events, s.trends).update(recs, at + timedelta(minutes=5))
    s.record_source_pass("src0", at, items=3)
    yield s
    s.close()


def test_the_daily_report_html_lists_the_days_events_bursts_and_sources(store, tmp_path):
    out = write_report(store, datetime(2026, 12, 7).date(), tmp_path / "daily.html")
    html = out.read_text(encoding="utf-8")
    assert "巡查日报 · 2026-12-07" in html and "吉林省长春市朝阳区" in html
    assert "公共安全：起火" in html and "src0" in html


def test_a_report_file_that_is_neither_html_nor_pdf_is_refused(store, tmp_path):
    with pytest.raises(ValueError, match=r"\.html 或 \.pdf"):
        write_report(store, datetime(2026, 12, 7).date(), tmp_path / "daily.docx")


@pytest.mark.skipif(not Path(CHROMIUM).exists() or not shutil.which("pdftoppm"),
                    reason="needs Debian chromium and poppler-utils (scripts/install-system.sh)")
def test_the_daily_report_pdf_pages_are_not_blank(store, tmp_path):
    pdf = write_report(store, datetime(2026, 12, 7).date(), tmp_path / "daily.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # Grey-scale PGM pages (P5: a text header, then one byte per pixel) need no imaging library.
    subprocess.run(["pdftoppm", "-r", "50", "-gray", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.pgm"))
    assert pages
    for page in pages:
        data = page.read_bytes()
        magic, width, height, _maxval, pixels = data.split(maxsplit=4)
        assert magic == b"P5"
        dark = sum(1 for v in pixels[: int(width) * int(height)] if v < 200)
        assert dark > int(width) * int(height) * 0.005, f"{page.name} is blank"
