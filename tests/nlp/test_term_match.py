"""Proposed terms are matched on normalised text by the production lexicon's rules, overlapping."""
import pytest

from nlp.lexicon import Lexicon
from nlp.normalise import normalise
from nlp.term_match import TermError, TermMatcher


@pytest.fixture(scope="module")
def lexicon():
    return Lexicon.load()


def find(terms, text, lexicon):
    matcher = TermMatcher(terms, lexicon)
    return matcher.find(normalise(text, matcher.fold_terms).text)


def test_a_term_is_normalised_before_it_is_matched(lexicon):
    matcher = TermMatcher(["新貨", "ABC"], lexicon)
    assert matcher.normalised == ["新货", "abc"]


def test_overlapping_terms_are_each_found(lexicon):
    assert set(find(["新货", "新货到"], "新货到了", lexicon)) == {0, 1}


def test_a_term_inside_a_benign_word_is_not_found(lexicon):
    assert find(["冰"], "冰箱今天到货", lexicon) == {}


def test_an_ascii_term_is_not_found_inside_an_english_word(lexicon):
    assert find(["ice"], "nice day", lexicon) == {}
    assert find(["ice"], "buy ICE here", lexicon) == {0: (4, 7)}


def test_a_co_occurrence_is_found_as_one_span(lexicon):
    (span,) = find(["高价收|回收…银行卡"], "长期高价收 一类银行卡", lexicon).values()
    assert span[1] - span[0] > len("高价收")


@pytest.mark.parametrize("terms", [[""], ["  "], ["…银行卡"]])
def test_a_term_that_cannot_be_matched_says_so(lexicon, terms):
    with pytest.raises(TermError):
        TermMatcher(terms, lexicon)
