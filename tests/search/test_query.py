"""The query language parser: what each query means, and where a malformed one is wrong."""
from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone

import pytest

from search.index import QuerySyntaxError
from search.query import MAX_TERMS, And, DateRange, Field, Not, Or, Text, is_text_only, parse
from search.tokens import Segmenter, fold

UTC = timezone.utc


def root(q: str, **kwargs):
    return parse(q, **kwargs).root


def word(text: str, *tokens: str, position: int, quoted: bool = False) -> Text:
    return Text(text, tokens or (text,), position, quoted)


def error(q: str, **kwargs) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(q, **kwargs)
    assert caught.value.query == q
    return caught.value


# ---------------------------------------------------------------------------- meaning


def test_an_empty_or_blank_query_has_no_root():
    assert root("") is None
    assert root("   \u3000 ") is None


def test_words_separated_by_spaces_are_all_required():
    assert root("博彩 网站") == And((word("博彩", position=0), word("网站", position=3)), 0)


def test_a_word_that_segments_into_several_tokens_keeps_them_together_as_a_phrase():
    assert root("博彩网站") == Text("博彩网站", ("博彩", "网站"), 0)


def test_quoted_text_is_a_phrase_in_ascii_or_chinese_quotes():
    assert root('"博彩 网站"') == Text("博彩 网站", ("博彩", "网站"), 0, quoted=True)
    assert root("“博彩网站”") == Text("博彩网站", ("博彩", "网站"), 0, quoted=True)


def test_words_are_folded_to_lowercase_and_half_width():
    assert root("ＶＰＮ").tokens == ("vpn",)
    assert root("iPhone15").tokens == ("iphone15",)


def test_or_binds_tighter_than_the_implicit_and():
    assert root("a OR b c") == And((Or((word("a", position=0), word("b", position=5)), 0),
                                    word("c", position=7)), 0)


def test_lowercase_or_is_an_ordinary_word():
    assert root("a or b") == And((word("a", position=0), word("or", position=2), word("b", position=5)), 0)


def test_a_minus_excludes_a_word_a_phrase_a_group_or_a_filter():
    assert root("a -b") == And((word("a", position=0), Not(word("b", position=3), 2)), 0)
    assert root('a -"b c"').children[1] == Not(Text("b c", ("b", "c"), 3, quoted=True), 2)
    assert root("a -(b OR c)").children[1] == Not(Or((word("b", position=4), word("c", position=9)), 4), 2)
    assert root("a -category:fraud").children[1] == Not(Field("category", "fraud", 3), 2)


def test_a_minus_inside_a_word_is_part_of_the_word():
    assert root("e-mail") == Text("e-mail", ("e", "mail"), 0)


def test_a_lone_minus_or_punctuation_only_words_are_ignored():
    assert root("a - b") == And((word("a", position=0), word("b", position=4)), 0)
    assert root("a * ^") == word("a", position=0)


def test_field_filters_name_the_stored_attribute():
    f = root("category:FRAUD")
    assert f == Field("category", "fraud", 0)
    assert f.attribute == "categories"
    assert root("Source:City-Forum") == Field("source", "City-Forum", 0)
    assert root('author:"some one"') == Field("author", "some one", 0)
    assert root("status:open").attribute == "status"
    assert root("primary:none").attribute == "primary"


def test_a_colon_after_something_other_than_a_field_name_is_text():
    assert root("12:30").tokens == ("12", "30")
    assert root("网站:推荐").tokens == ("网站", "推荐")


def d(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if "+" not in text else datetime.fromisoformat(text)


@pytest.mark.parametrize("value, start, end", [
    (">=2026-11-01", d("2026-11-01"), None),
    (">2026-11-01", d("2026-11-02"), None),
    ("<2026-11-01", None, d("2026-11-01")),
    ("<=2026-11-01", None, d("2026-11-02")),
    ("2026-11-01", d("2026-11-01"), d("2026-11-02")),
    ("2026-11-01..2026-11-05", d("2026-11-01"), d("2026-11-06")),
    ("2026-11-01..", d("2026-11-01"), None),
    ("..2026-11-05", None, d("2026-11-06")),
    (">=2026-11-01T08:30", d("2026-11-01T08:30"), None),
    (">=2026-11-01T08:30+08:00", d("2026-11-01T00:30"), None),
    (">=2026-11-01T08:30:00Z", d("2026-11-01T08:30"), None),
    (">2026-11-01T08:30", d("2026-11-01T08:30") + timedelta(microseconds=1), None),
])
def test_published_ranges_become_half_open_utc_intervals(value, start, end):
    r = root(f"published:{value}")
    assert r == DateRange(start, end, 0)
    for bound in (r.start, r.end):
        assert bound is None or bound.utcoffset() == timedelta(0)


def test_positive_phrases_leave_out_excluded_words():
    parsed = parse('a "b c" -d (e OR f) -(g h) category:x')
    assert parsed.positive_phrases() == [("a",), ("b", "c"), ("e",), ("f",)]


def test_text_only_subtrees_are_recognised():
    assert is_text_only(root("a (b OR c) -d"))
    assert not is_text_only(root("a category:x"))
    assert not is_text_only(root("a OR published:>=2026-11-01"))


def test_a_group_of_one_exclusion_is_that_exclusion():
    assert root("x (-a)") == And((word("x", position=0), Not(word("a", position=4), 3)), 0)


def test_only_exclusions_are_accepted_when_the_request_has_other_filters():
    assert root("-a", has_filters=True) == Not(word("a", position=1), 0)


# ---------------------------------------------------------------------------- errors and positions


@pytest.mark.parametrize("q, position, message", [
    ("(a b", 0, "unclosed '('"),
    ("a (b (c)", 2, "unclosed '('"),
    ("a b)", 3, "unmatched ')'"),
    (")", 0, "unmatched ')'"),
    ("()", 0, "empty parentheses"),
    ('a "b c', 2, "unclosed quote"),
    ("a “b", 2, "unclosed quote"),
    ("a OR", 2, "OR needs a word, phrase or group after it"),
    ("OR a", 0, "OR needs a word, phrase or group before it"),
    ("a OR OR b", 2, "OR needs"),
    ("(a OR) b", 3, "OR needs"),
    ("a -", 2, None),  # a lone '-' at the end is ignored, leaving "a": no error; see below
    ("a -)", 3, "unmatched ')'"),
    ("title:x", 0, "unknown field 'title'"),
    ("a category:", 11, "'category:' needs a value"),
    ("published:2026-13-01", 10, "bad date '2026-13-01'"),
    ("published:>=yesterday", 12, "bad date 'yesterday'"),
    ("published:2026-11-01..2026-1-5", 22, "bad date '2026-1-5'"),
    ("published:2026-11-05..2026-11-01", 10, "ends before it starts"),
    ("published:..", 10, "needs at least one date"),
    ("-a", 0, "only exclusions"),
    ("-a -b", 0, "only exclusions"),
    ("(-a)", 1, "only exclusions"),
    ("a OR -b", 5, "exclusion cannot be an OR alternative"),
    ("* ^ ;", 0, "nothing to search for"),
])
def test_malformed_queries_point_at_the_problem(q, position, message):
    if message is None:
        parse(q)  # accepted: documented as forgiving
        return
    exc = error(q)
    assert exc.position == position
    assert message in exc.message
    assert str(exc).endswith(f"at position {position}")


def test_an_over_long_query_is_refused_at_the_limit():
    exc = error("博" * 1001)
    assert exc.position == 1000
    parse("博" * 1000)


def test_too_many_terms_are_refused_at_the_first_term_over_the_limit():
    q = " ".join(f"w{i}" for i in range(MAX_TERMS + 1))
    exc = error(q)
    assert exc.position == q.index(f"w{MAX_TERMS}")


def test_deeply_nested_parentheses_are_refused():
    exc = error("(" * 40 + "a" + ")" * 40)
    assert "nested" in exc.message
    assert exc.position == 32


# ---------------------------------------------------------------------------- the segmenter


def test_the_segmenter_survives_pickling_and_cuts_the_same_after():
    s = Segmenter()
    before = s.tokens("澳门博彩网站")
    copy = pickle.loads(pickle.dumps(s))
    assert copy.tokens("澳门博彩网站") == before == ["澳门", "博彩", "网站"]


SEG = Segmenter()  # building rjieba's tokenizer takes a while: one for the tests below


def test_spans_point_into_the_original_text_even_where_folding_changed_its_length():
    text = "ＶＰＮ…博彩㎏"
    words, parts = SEG.spans(text)
    assert [(t, text[s:e]) for t, s, e in words] == [("vpn", "ＶＰＮ"), ("博彩", "博彩"), ("kg", "㎏")]
    assert parts == []


def test_folding_maps_full_width_to_ascii_lowercases_and_turns_punctuation_into_spaces():
    assert fold("ＡＢＣ１２３　") == "abc123 "
    assert fold("博彩，网站！") == "博彩 网站 "


def test_folding_drops_invisible_characters_so_they_cannot_split_a_word():
    assert fold("博\u200b彩") == "博彩"
    assert fold("👍🏻") == "👍 "  # the skin tone is a modifier, not a word


def test_a_longer_word_that_its_sub_words_tile_is_replaced_by_them():
    s = SEG
    assert s.tokens("今天天气不错") == ["今天", "天气", "不错"]
    assert s.tokens("中华人民共和国") == ["中华", "人民", "共和国"]
    assert s.index_text("今天天气不错") == ("今天 天气 不错", "天天")


def test_a_longer_word_whose_sub_words_overlap_stays_whole_with_them_as_parts():
    s = SEG
    assert s.index_text("北京大学生") == ("北京 大学生", "大学 学生")
    assert s.index_text("哈尔滨市") == ("哈尔滨市", "哈尔 哈尔滨")


def test_parts_point_into_the_original_text():
    text = "在哈尔滨市"
    words, parts = SEG.spans(text)
    assert [(t, text[s:e]) for t, s, e in words] == [("在", "在"), ("哈尔滨市", "哈尔滨市")]
    assert [(t, text[s:e]) for t, s, e in parts] == [("哈尔", "哈尔"), ("哈尔滨", "哈尔滨")]


def test_emoji_are_tokens_of_their_own():
    assert SEG.tokens("加🐧号码👨\u200d👩\u200d👧") == ["加", "🐧", "号码", "👨", "👩", "👧"]


@pytest.mark.parametrize("text", [
    "今天天气不错，中华人民共和国成立了。", "北京大学生们在哈尔滨市政府门口", "ＶＰＮ service…加🐧 QQ号码：12345",
    "e-mail c++ 2.5 50% a_b", "привет мир こんにちは", "", "   ", "a\nb\r\nc\td",
])
def test_the_index_the_query_and_the_highlighter_cut_a_text_the_same_way(text):
    s = SEG
    words, parts = s.spans(text)
    assert s.index_text(text) == (" ".join(t for t, _, _ in words), " ".join(t for t, _, _ in parts))
    assert s.tokens(text) == [t for t, _, _ in words]


def test_cutting_a_batch_gives_each_text_its_own_tokens():
    s = SEG
    texts = ["今天天气不错", "", "第二行\n第三行", "北京大学生"]
    assert s.index_texts(texts) == [s.index_text(t) for t in texts]
