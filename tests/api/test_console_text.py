"""Evidence highlighting, the normalisation trail and search highlights, as the console shows them."""
from __future__ import annotations

from api.console_labels import clean_highlight, fmt_time, http_url
from api.console_text import highlight_segments, trail_groups


def ev(start, end, category="drugs", term="t"):
    return {"start": start, "end": end, "category": category, "term": term, "source": "lexicon"}


def test_segments_cover_the_whole_text_in_order():
    text = "加薇❤ 出冰 同城"
    segs = highlight_segments(text, [ev(4, 6), ev(7, 9)])
    assert "".join(s.text for s in segs) == text
    assert [(s.text, bool(s.marks)) for s in segs] == [("加薇❤ ", False), ("出冰", True), (" ", False), ("同城", True)]


def test_overlapping_evidence_is_cut_at_every_boundary():
    segs = highlight_segments("abcdef", [ev(1, 4, "drugs"), ev(3, 5, "fraud")])
    assert [(s.text, s.categories) for s in segs] == [
        ("a", []), ("bc", ["drugs"]), ("d", ["drugs", "fraud"]), ("e", ["fraud"]), ("f", [])]


def test_spans_outside_the_text_are_ignored_and_the_text_kept_intact():
    text = "短文"
    segs = highlight_segments(text, [ev(1, 99), ev(-1, 1), ev(1, 1), {"start": "0", "end": 1}])
    assert "".join(s.text for s in segs) == text and all(not s.marks for s in segs)


def test_adjacent_trail_steps_read_as_one_change():
    trail = [{"kind": "emoji", "start": 2, "end": 3, "original": "❤", "replacement": "信"},
             {"kind": "homophone", "start": 1, "end": 2, "original": "薇", "replacement": "微"},
             {"kind": "separator", "start": 7, "end": 8, "original": "*", "replacement": ""}]
    groups = trail_groups(trail)
    assert [str(g) for g in groups] == ["薇❤ → 微信", "* → "]
    assert groups[0].kinds == ("homophone", "emoji")


def test_clean_highlight_keeps_marks_and_escapes_everything_else():
    assert clean_highlight("出冰 <mark>同城</mark> &lt;b&gt;") == "出冰 <mark>同城</mark> &lt;b&gt;"
    assert clean_highlight("<script>x</script><mark>a</mark>") == "&lt;script&gt;x&lt;/script&gt;<mark>a</mark>"
    assert clean_highlight("<mark>open") == "<mark>open</mark>"
    assert clean_highlight("stray</mark> <mark><mark>x</mark>") == "stray <mark>x</mark>"
    assert clean_highlight("&amp;lt;") == "&amp;lt;"


def test_only_http_links_are_clickable():
    assert http_url("https://bbs.example.cn/t/1") == "https://bbs.example.cn/t/1"
    for url in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "", None, "http://[::1"):
        assert http_url(url) is None


def test_times_are_shown_in_china_standard_time():
    from datetime import datetime, timezone
    assert fmt_time(datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)) == "2026-11-25 00:30"
    assert fmt_time(None) == "—"


def test_post_evidence_is_placed_on_the_title_or_the_text_it_falls_in():
    from api.console_text import highlight_post
    title, text = "有货，同城", "冰 叶子"
    # The analyzer saw "有货，同城\n冰 叶子": 同城 at 3-5, 冰 at 6-7, and a span across the line break.
    title_segs, text_segs = highlight_post(title, text, [ev(3, 5, term="同城"), ev(6, 7, term="冰"),
                                                          ev(4, 7, "fraud", term="x")])
    assert [(s.text, s.categories) for s in title_segs] == [("有货，", []), ("同", ["drugs"]), ("城", ["drugs", "fraud"])]
    assert [(s.text, s.categories) for s in text_segs] == [("冰", ["drugs", "fraud"]), (" 叶子", [])]


def test_post_without_a_title_uses_text_offsets_as_they_are():
    from api.console_text import highlight_post
    title_segs, text_segs = highlight_post("", "出冰", [ev(0, 2)])
    assert title_segs == [] or all(not s.text for s in title_segs)
    assert [(s.text, bool(s.marks)) for s in text_segs] == [("出冰", True)]


def test_invisible_trail_characters_are_named():
    from api.console_text import visible
    assert visible(" ") == "␣" and visible("\u200b") == "零宽空格" and visible("") == "（删除）"
    assert visible("薇❤") == "薇❤"
