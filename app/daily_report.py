"""The daily report (日报) as HTML and PDF: `patrol report daily --date D --out FILE`, and written
each day by `patrol serve` (the schedule below). The figures come from patrol.events.daily; the
PDF is Debian chromium's print-to-PDF driven by Playwright (never a downloaded browser)."""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from patrol.events.daily import daily_figures

log = logging.getLogger("patrol.report")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]))


def render_html(store, day: date) -> str:
    return _env.get_template("daily_report.html").render(f=daily_figures(store, day))


def html_to_pdf(html: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} 不存在：PDF 由 Debian 的 chromium 打印（scripts/install-system.sh 安装）")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            page.pdf(path=str(out), format="A4", print_background=True,
                     margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()


def write_report(store, day: date, out: Path) -> Path:
    """HTML or PDF by the file's suffix (.html / .pdf)."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".pdf"):
        raise ValueError(f"{out}: 日报文件须以 .html 或 .pdf 结尾")
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(store, day)
    if out.suffix.lower() == ".html":
        out.write_text(html, encoding="utf-8")
    else:
        html_to_pdf(html, out)
    return out


def schedule_daily(store, folder: Path, at_hour: int = 1, clock=lambda: datetime.now(timezone.utc),
                   stop: threading.Event | None = None) -> threading.Thread:
    """A daemon thread that writes yesterday's report (HTML and PDF) into `folder` once a day,
    after `at_hour` UTC; a report already written is not written again, so a restart is safe."""
    stop = stop or threading.Event()

    def loop():
        while not stop.is_set():
            now = clock()
            day = (now - timedelta(days=1)).date()
            if now.hour >= at_hour:
                for suffix in (".html", ".pdf"):
                    out = Path(folder) / f"daily-{day.isoformat()}{suffix}"
                    if not out.exists():
                        try:
                            write_report(store, day, out)
                            log.info("daily report written: %s", out)
                        except Exception:   # a failed report must not stop the server; it is retried
                            log.exception("daily report %s failed; retrying in 10 minutes", out)
            stop.wait(600)

    thread = threading.Thread(target=loop, name="daily-report", daemon=True)
    thread.start()
    return thread
