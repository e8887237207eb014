"""Watch-list terms: too broad a term is refused saying which and why; the shipped list is the
public-safety watch and nothing about opinions."""
from __future__ import annotations

import pytest

from patrol.events.watchlists import WatchListError, check_id, check_terms, safety_watch


@pytest.mark.parametrize("terms, says", [(["的"], "单个字符"), (["火"], "单个字符"), (["我们"], "常用词"),
                                         (["110"], "常用词或数字"), ([], "至少要有一个"), (["x" * 41], "超过")])
def test_a_term_that_would_match_everything_or_nothing_is_refused(terms, says):
    with pytest.raises(WatchListError, match=says):
        check_terms(terms)


def test_a_term_found_in_most_recent_posts_is_refused_with_its_share():
    with pytest.raises(WatchListError, match="60%"):
        check_terms(["天气", "中暑"], share_of=lambda t: 0.6 if t == "天气" else 0.0)


def test_terms_are_cleaned_of_blanks_and_repeats_and_split_on_commas():
    assert check_terms("中暑，高温, 中暑\n") == ("中暑", "高温")


def test_a_list_id_must_be_a_short_slug():
    assert check_id("heat-2026") == "heat-2026"
    with pytest.raises(WatchListError):
        check_id("../etc")


def test_the_shipped_list_is_the_public_safety_watch():
    w = safety_watch()
    assert w.id == "public-safety" and {"火灾", "爆炸", "坍塌", "溺水", "食物中毒", "踩踏", "山体滑坡"} <= set(w.terms)
    assert w.min_count == 3
