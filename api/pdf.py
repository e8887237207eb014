"""HTML to PDF through Debian's chromium, driven by Playwright's print-to-PDF (no browser download).

Used for the evidence package's report and the shift handover. Chromium is started per document:
a PDF is asked for a few times a shift, and a browser kept running would hold ~150 MB for nothing.
The HTML is rendered with JavaScript off and no network: it is our own template, self-contained.
"""
from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("PATROL_CHROMIUM", "/usr/bin/chromium"))


class PdfUnavailable(RuntimeError):
    """No PDF can be made here (chromium or Playwright missing); the message says which."""


def html_to_pdf(html: str) -> bytes:
    try:
        from playwright.sync_api import Error as PlaywrightError, sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dependency
        raise PdfUnavailable(f"Playwright is not installed: {exc}") from None
    if not CHROMIUM.exists():
        raise PdfUnavailable(f"chromium not found at {CHROMIUM} (scripts/install-system.sh installs it)")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                context = browser.new_context(java_script_enabled=False, offline=True)
                page = context.new_page()
                page.set_content(html, wait_until="load")
                return page.pdf(format="A4", print_background=True,
                                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise PdfUnavailable(f"chromium could not print the PDF: {exc}") from None
