"""A burst (ops_trend) alert's page draws the series that justifies it, from the alert's
analysis.trend.series, with the vendored ECharts; the same figures are in a table."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from patrol.events import bursts

pytestmark = pytest.mark.browser


def test_a_burst_alert_page_draws_its_hourly_series(console, officer_page):
    now = datetime.now(timezone.utc)
    window = bursts.window_start(now)
    hours = [window - timedelta(hours=h) for h in range(24, 0, -1)]
    series = [(h.isoformat(), 1 + i % 2) for i, h in enumerate(hours)] + [(window.isoformat(), 17)]
    verdict = bursts.BurstVerdict(True, 17, 1.5, 12.7)
    alert = bursts.trend_alert(bursts.TERM, "safety:测试爆炸", "公共安全：测试爆炸", window, verdict, series, now)
    assert console.services.store.trends.open_burst(bursts.TERM, "safety:测试爆炸", window, verdict, alert,
                                                    "公共安全：测试爆炸", now)
    page = officer_page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"/console/alerts/{alert.id}")
    assert "17" in page.locator("#trend-summary").inner_text()
    rows = page.locator("#trend-table tbody tr")
    assert rows.count() == 25 and rows.nth(24).locator("td").nth(1).text_content() == "17"
    page.wait_for_selector("#trend-chart[data-ready='1'] canvas")
    assert page.get_attribute("#trend-chart", "data-points") == "25"
    # What the chart holds is the alert's series, bar by bar.
    drawn = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('trend-chart'))"
                          ".getOption().series[0].data.map(d => d.value)")
    assert drawn == [n for _h, n in series]
    pixels = page.evaluate("""() => { const c = document.querySelector('#trend-chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4 * 37) if (d[i + 3] && d[i] > 150 && d[i + 1] < 90) n++; return n; }""")
    assert pixels > 5, "the burst window's red bar is not drawn"
    assert not errors
