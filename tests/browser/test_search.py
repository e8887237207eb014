"""The search page: Chinese queries, malformed ones, and hostile ones."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser


def _search(page, query: str) -> None:
    page.click('#main-nav a[data-nav="search"]')
    page.fill("#search-q", query)
    page.click("#search-submit")
    page.wait_for_load_state()


def test_a_chinese_query_returns_hits_with_the_words_highlighted_and_facets_narrow_them(officer_page):
    page = officer_page
    _search(page, "银行卡")
    assert parse_qs(urlsplit(page.url).query)["q"] == ["银行卡"]
    total = int(page.locator("#search-results").get_attribute("data-total"))
    assert total >= 2
    hits = page.locator("#search-results article.hit")
    assert hits.count() == min(total, 20)
    for hit in hits.all():
        assert hit.locator(".fragment mark").all_inner_texts(), "every hit shows why it matched"
    marks = page.locator("#search-results .fragment mark").all_inner_texts()
    assert set(marks) == {"银行卡"}

    facet = page.locator('#facets ul[data-facet="category"] li').first
    facet_label = facet.locator("a").inner_text()
    facet_count = int(facet.locator(".count").inner_text())
    facet.locator("a").click()
    page.wait_for_load_state()
    assert int(page.locator("#search-results").get_attribute("data-total")) == facet_count < total
    for hit in page.locator("#search-results article.hit").all():
        assert facet_label in hit.locator(".meta .tag").all_inner_texts()

    page.locator("#search-results article.hit h3 a").first.click()
    assert urlsplit(page.url).path.startswith("/console/posts/")
    assert "银行卡" in page.content()


def test_a_malformed_query_shows_an_error_that_points_at_the_position(officer_page, console):
    page = officer_page
    query = "(博彩 OR"
    _search(page, query)
    error = page.locator("#search-error")
    assert error.is_visible()
    with console.api("olga") as api:
        detail = api.get("/api/search", params={"q": query}).json()["detail"]
    position = detail["position"]
    assert error.get_attribute("data-position") == str(position)
    pointer = page.locator("#query-pointer")
    # The whole query is shown with the offending spot marked, and its 1-based character number.
    assert pointer.inner_text().startswith(query[:position])
    assert pointer.locator("mark.err-at").inner_text() == (query[position:position + 1] or "⟂")
    assert f"第 {position + 1} 个字符" in pointer.inner_text()
    assert detail["message"] in error.inner_text()
    assert page.input_value("#search-q") == query, "the officer can fix the query in place"
    assert page.locator("#search-results").count() == 0


@pytest.mark.parametrize("query, shown_in", [
    ("<script>alert(1)</script>", "#search-results"),       # a valid query: no hits
    ('"><script>alert(1)</script>', "#query-pointer"),       # unclosed quote: echoed in the error
    ("<img src=x onerror=alert(1)>", "#search-results"),
])
def test_a_query_carrying_markup_is_shown_as_text_and_runs_nothing(officer_page, query, shown_in):
    page = officer_page
    _search(page, query)
    assert page.input_value("#search-q") == query
    assert page.locator(shown_in).is_visible()
    if shown_in == "#query-pointer":
        assert page.inner_text("#query-pointer").startswith(query)
    # The CSP would stop an inline script anyway; what must hold is that the query never becomes
    # markup: the only script is the console's own, and no image or handler was injected.
    scripts = page.locator("script").evaluate_all("els => els.map(e => e.getAttribute('src'))")
    assert len(scripts) == 1 and scripts[0].endswith("/console.js")
    assert page.locator("img, [onerror]").count() == 0
    page.wait_for_timeout(200)
    assert page.dialogs == []
