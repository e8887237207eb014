"""Proposed lexicon terms are tried on the stored posts, normalised as the Analyzer does, and the
administrator sees hit counts and marked snippets of the original text."""
import pytest

from nlp.analyzer import Analyzer
from nlp.lexicon import Lexicon
from patrol.lexicon_backtest import BacktestError, backtest, iter_post_texts, snippet

NOW_POSTS = [
    ("p1", "新货到了，同城面交，加我"),
    ("p2", "新 货已到，老地方见"),  # a separator inside the proposed word
    ("p3", "這批新貨不錯"),  # traditional characters
    ("p4", "冰箱今天到货，师傅下午安装"),  # 冰 inside a benign word
    ("p5", "今天天气很好，出去走走"),
    ("p6", "长期高价收 一类银行卡 有意私聊"),
]


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(Lexicon.load())


@pytest.fixture
def stored(store, make):
    records = [make.record(make.raw(external_id=eid, text=text)) for eid, text in NOW_POSTS]
    store.save_batch(records, [], make.now)
    return {eid: r.id for (eid, _), r in zip(NOW_POSTS, records)}


def test_a_term_hits_its_obfuscated_variants_and_reports_how_many_posts_were_scanned(store, stored, analyzer):
    (row,) = backtest(["新货"], store, analyzer)
    assert row.scanned == len(NOW_POSTS)
    assert row.hits == 3
    assert {pid for pid, _ in row.samples} == {stored["p1"], stored["p2"], stored["p3"]}


def test_snippets_show_the_original_text_with_the_match_marked(store, stored, analyzer):
    (row,) = backtest(["新货"], store, analyzer)
    by_post = dict(row.samples)
    assert by_post[stored["p1"]] == "【新货】到了，同城面交，加我"
    assert by_post[stored["p2"]].startswith("【新 货】")  # the space the normaliser folded is shown
    assert "【新貨】" in by_post[stored["p3"]]


def test_the_sample_is_capped_but_the_count_is_not(store, stored, analyzer):
    (row,) = backtest(["新货"], store, analyzer, sample=1)
    assert row.hits == 3 and len(row.samples) == 1


def test_a_term_inside_a_benign_word_is_not_a_hit(store, stored, analyzer):
    (row,) = backtest(["冰"], store, analyzer)
    assert row.hits == 0 and row.samples == ()


def test_overlapping_terms_are_counted_each_on_their_own(store, stored, analyzer):
    short, long_ = backtest(["新货", "新货到"], store, analyzer)
    assert (short.hits, long_.hits) == (3, 1)


def test_a_co_occurrence_term_can_be_tried(store, stored, analyzer):
    (row,) = backtest(["高价收|回收…银行卡"], store, analyzer)
    assert row.hits == 1
    assert "【高价收 一类银行卡】" in row.samples[0][1]


def test_terms_are_normalised_before_matching(store, stored, analyzer):
    (row,) = backtest(["新貨"], store, analyzer)  # proposed in traditional characters
    assert row.normalised == "新货" and row.hits == 3


def test_every_page_of_posts_is_scanned(store, stored, analyzer):
    ids = [pid for pid, _ in iter_post_texts(store, page_size=2)]
    assert sorted(ids) == sorted(stored.values()) and len(ids) == len(set(ids))
    (row,) = backtest(["新货"], store, analyzer, page_size=2)
    assert (row.hits, row.scanned) == (3, len(NOW_POSTS))


def test_the_title_is_scanned_with_the_text(store, make, analyzer):
    r = make.raw(external_id="t", title="出售新货", text="详情见内")
    store.save_batch([make.record(r)], [], make.now)
    (row,) = backtest(["出售新货"], store, analyzer)
    assert row.hits == 1


def test_an_empty_store_gives_zero_rows_scanned(store, analyzer):
    (row,) = backtest(["新货"], store, analyzer)
    assert (row.hits, row.scanned, row.samples) == (0, 0, ())


@pytest.mark.parametrize("terms", [[], [""], ["  "], ["…银行卡"]])
def test_a_term_that_cannot_be_tried_is_a_clear_error(store, analyzer, terms):
    with pytest.raises(BacktestError):
        backtest(terms, store, analyzer)


def test_a_backtest_changes_nothing_in_the_store(store, stored, analyzer):
    before = store.counts()
    backtest(["新货"], store, analyzer)
    assert store.counts() == before


def test_a_snippet_is_one_line_and_says_where_it_was_cut():
    text = "前" * 30 + "目标" + "后\n后" + "后" * 30
    s = snippet(text, 30, 32, context=5)
    assert s == "…前前前前前【目标】后 后后后…"
