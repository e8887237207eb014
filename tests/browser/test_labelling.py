"""An officer labels the day's recall sample (抽检) from the keyboard in a real chromium: one key
per category, j/k to move, and the queue and figures follow."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

pytestmark = pytest.mark.browser


def test_an_officer_labels_the_recall_sample_with_one_key_per_category(console, officer_page):
    store = console.services.store
    now = datetime.now(timezone.utc)
    drawn = store.draw_recall_sample(now.date(), 5, now, seed=11)
    pending = [p.post_id for p in store.recall_queue(now.date())]
    assert len(pending) >= 2, "the demo crawl left posts without alerts to sample"
    page = officer_page
    page.goto("/console/labelling")
    items = page.locator("#recall-queue .label-item")
    assert items.count() == len(pending)
    # the first post has the focus: "n" labels it none (不违规)
    first = items.nth(0).get_attribute("data-post-id")
    page.keyboard.press("n")
    page.wait_for_selector("#flash")
    assert "已标注" in page.locator("#flash").inner_text()
    assert [x.category for x in store.post_labels(first)] == ["none"]
    # j moves to the next post; the key of 赌博 (its button shows it) labels that one
    items = page.locator("#recall-queue .label-item")
    second = items.nth(1).get_attribute("data-post-id")
    key = items.nth(1).locator('button[value="gambling"]').get_attribute("data-key")
    page.keyboard.press("j")
    page.keyboard.press(key)
    page.wait_for_selector("#flash")
    assert [x.category for x in store.post_labels(second)] == ["gambling"]
    assert page.locator("#recall-queue .label-item").count() == len(pending) - 2
    assert page.locator('#label-figures tr[data-category="gambling"] .miss').inner_text().startswith("50.0%")
    assert not page.dialogs
    assert {p.post_id for p in drawn} >= {first, second}
