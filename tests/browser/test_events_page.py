"""The public-opinion page in a real chromium: the demo's incidents as events, the map of China
drawn by the vendored ECharts (no request leaves the console), and an event's timeline."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_the_events_page_draws_the_map_and_the_timeline_of_the_chosen_event(officer_page, tmp_path):
    page = officer_page
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(page.url.split("/console")[0]) else None)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e) + " @ " + str(getattr(e, "stack", ""))[:1500]))
    page.click('#main-nav a[data-nav="events"]')
    page.wait_for_load_state()
    rows = page.locator("#events tr.event-row")
    assert rows.count() >= 2
    assert "吉林省白山市临江市" in page.locator("#events").inner_text()
    page.wait_for_selector("#event-map[data-ready='1'] canvas")
    page.wait_for_selector("#event-timeline[data-event] canvas")
    # A canvas that drew something has pixels that are not all one colour.
    drawn = page.evaluate("""() => [...document.querySelectorAll('#event-map canvas, #event-timeline canvas')]
        .map(c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    let n = 0; for (let i = 0; i < d.length; i += 4 * 97) if (d[i + 3] && d[i] < 230) n++; return n; })""")
    assert all(n > 20 for n in drawn), drawn
    second = rows.nth(1).locator("a.event-link")
    eid = second.get_attribute("data-event")
    second.click()
    page.wait_for_selector(f"#event-timeline[data-event='{eid}']")
    # PATROL_TEST_SCREENSHOTS=DIR keeps the picture, to look at what an officer sees.
    shots = os.environ.get("PATROL_TEST_SCREENSHOTS")
    page.screenshot(path=str(Path(shots) / "events.png" if shots else tmp_path / "events.png"), full_page=True)
    assert not errors and not outside and not page.dialogs
