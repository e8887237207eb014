"""Lexicons load from versioned text files, match in one pass, and report broken lines."""
from pathlib import Path

import pytest

from nlp.categories import HARM_CATEGORIES
from nlp.lexicon import DEFAULT_DIR, Lexicon

HEADER = "# version: test.1\n"


def write(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / name).write_text(HEADER + body, encoding="utf-8")


@pytest.fixture(scope="module")
def bundled():
    return Lexicon.load()


def test_the_bundled_lexicons_load_without_problems(bundled):
    assert bundled.problems == ()
    assert set(HARM_CATEGORIES) <= bundled.categories()
    assert {"contact", "trade"} <= bundled.categories()


@pytest.mark.parametrize("category", HARM_CATEGORIES)
def test_every_category_file_has_enough_terms(category):
    lines = (DEFAULT_DIR / f"{category}.txt").read_text(encoding="utf-8").splitlines()
    terms = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    assert len(terms) >= 30, f"{category} has only {len(terms)} terms"


def test_matching_finds_category_and_signal_hits_with_offsets(bundled):
    text = "出售冰毒 同城面交 加我"
    hits = bundled.match(text)
    found = {(h.category, h.term) for h in hits}
    assert ("drugs", "冰毒") in found
    assert ("trade", "面交") in found
    assert ("contact", "加我") in found
    for h in hits:
        if "…" in h.term:  # a co-occurrence spans from its first word to its last
            first, last = h.term.split("…")
            assert text[h.start:h.end].startswith(first) and text[h.start:h.end].endswith(last)
        else:
            assert text[h.start:h.end].lower() == h.term


def test_ascii_terms_match_case_insensitively_but_not_inside_words(bundled):
    assert any(h.term == "qq" for h in bundled.match("联系QQ聊"))
    assert not any(h.term == "sb" for h in bundled.match("this is a sbt build"))


def test_weak_terms_are_marked(bundled):
    (hit,) = [h for h in bundled.match("叶子") if h.category == "drugs"]
    assert hit.weak


def test_counter_speech_is_found_as_an_exception(bundled):
    m = bundled.scan("警惕刷单返利诈骗")
    assert any(e.category == "fraud" and e.factor < 0.5 for e in m.exceptions)
    m = bundled.scan("禁毒宣传：远离毒品")
    assert any(e.category == "drugs" for e in m.exceptions)


def test_a_gap_pattern_needs_its_parts_in_order_and_close(tmp_path):
    write(tmp_path, "fraud.txt", "刷单\t0.9\n")
    write(tmp_path, "exceptions.txt", "fraud\t警惕…诈骗\t0.1\n")
    lx = Lexicon.load(tmp_path)
    assert lx.scan("警惕刷单诈骗").exceptions
    assert not lx.scan("刷单诈骗 警惕").exceptions
    assert not lx.scan("警惕" + "很" * 30 + "刷单诈骗").exceptions


def test_an_exception_overlapped_by_a_longer_term_still_counts(tmp_path):
    # leftmost-longest matching reports the term 诈骗求助 and would hide the exception 求助热线
    write(tmp_path, "fraud.txt", "诈骗求助\t0.9\n")
    write(tmp_path, "exceptions.txt", "fraud\t求助热线\t0.1\nself_harm\t援助热线\t0.2\nfraud\t心理援助热线\t0.1\n")
    lx = Lexicon.load(tmp_path)
    m = lx.scan("遇到诈骗求助热线110")
    assert [(e.pattern, e.start) for e in m.exceptions] == [("求助热线", 4)]
    # exceptions nested in a longer exception count too, each once
    m = lx.scan("诈骗求助 心理援助热线")
    assert sorted((e.category, e.pattern) for e in m.exceptions) == [("fraud", "心理援助热线"),
                                                                      ("self_harm", "援助热线")]


def test_an_exception_is_found_where_nothing_harmful_matched(tmp_path):
    write(tmp_path, "fraud.txt", "刷单\t0.9\n")
    write(tmp_path, "exceptions.txt", "fraud\t求助热线\t0.1\n")
    assert Lexicon.load(tmp_path).scan("求助热线").exceptions[0].pattern == "求助热线"


def test_a_broken_line_is_reported_with_file_and_line_and_the_rest_loads(tmp_path):
    write(tmp_path, "gambling.txt", "百家乐\t0.8\n上分\tlots\n下分\t0.4\t\tx\t\n私盘\t0.7\tsparkly\n时时彩\n")
    lx = Lexicon.load(tmp_path)
    where = {(p.file, p.line) for p in lx.problems}
    assert ("gambling.txt", 3) in where  # weight is not a number
    assert ("gambling.txt", 4) in where  # too many fields
    assert ("gambling.txt", 5) in where  # unknown tag
    assert "gambling.txt:3:" in str(next(p for p in lx.problems if p.line == 3))
    terms = {h.term for h in lx.match("百家乐 时时彩 上分 私盘")}
    assert terms == {"百家乐", "时时彩"}


def test_a_missing_version_header_and_an_unknown_file_are_reported(tmp_path):
    (tmp_path / "drugs.txt").write_text("冰毒\t0.8\n", encoding="utf-8")
    write(tmp_path, "politics.txt", "anything\n")
    lx = Lexicon.load(tmp_path)
    messages = " ".join(str(p) for p in lx.problems)
    assert "drugs.txt:1: missing '# version" in messages
    assert "politics.txt" in messages
    assert lx.match("冰毒")  # the file without a header still loads


def test_a_bad_exception_line_is_reported(tmp_path):
    write(tmp_path, "exceptions.txt", "fraud\t反诈\t2\nnot_a_category\t反诈\t0.1\nfraud\t反诈\n")
    lx = Lexicon.load(tmp_path)
    assert [p.line for p in lx.problems] == [2, 3, 4]


def test_the_version_changes_when_a_file_changes(tmp_path):
    write(tmp_path, "drugs.txt", "冰毒\t0.8\n")
    v1 = Lexicon.load(tmp_path).version
    write(tmp_path, "drugs.txt", "冰毒\t0.7\n")
    assert Lexicon.load(tmp_path).version != v1


def test_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="lexicon directory"):
        Lexicon.load(tmp_path / "nope")


def test_no_lexicon_targets_politics_religion_or_protest():
    banned = ("政府", "共产党", "习近平", "游行", "示威", "上访", "维权", "法轮", "宗教", "记者", "新闻")
    for path in DEFAULT_DIR.glob("*.txt"):
        if path.name == "exceptions.txt":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            term = line.split("\t")[0]
            assert not any(b in term for b in banned), f"{path.name}: {term}"


def test_a_co_occurrence_term_finds_any_left_word_followed_closely_by_any_right_word(tmp_path):
    write(tmp_path, "illicit_ads.txt", "高价收|回收…银行卡|电话卡\t0.7\n")
    lx = Lexicon.load(tmp_path)
    (hit,) = lx.match("长期高价收 一类银行卡 四件套")
    assert (hit.category, hit.term, hit.weight) == ("illicit_ads", "高价收…银行卡", 0.7)
    assert "长期高价收 一类银行卡 四件套"[hit.start:hit.end] == "高价收 一类银行卡"
    assert lx.match("回收闲置电话卡")[0].term == "回收…电话卡"


def test_a_co_occurrence_needs_order_closeness_and_one_sentence(tmp_path):
    write(tmp_path, "illicit_ads.txt", "高价收…银行卡\t0.7\n")
    lx = Lexicon.load(tmp_path)
    assert not lx.match("银行卡 高价收")
    assert not lx.match("高价收" + "的" * 13 + "银行卡")
    assert not lx.match("高价收旧书。银行卡丢了")


def test_a_co_occurrence_counts_once_per_text(tmp_path):
    write(tmp_path, "illicit_ads.txt", "收购|回收…银行卡|电话卡\t0.7\n")
    assert len(Lexicon.load(tmp_path).match("收购银行卡 回收电话卡")) == 1


def test_a_co_occurrence_part_inside_a_longer_term_is_still_seen(tmp_path):
    write(tmp_path, "illicit_ads.txt", "收银行卡\t0.6\n高价…银行卡\t0.7\n")
    terms = {h.term for h in Lexicon.load(tmp_path).match("高价收银行卡")}
    assert terms == {"收银行卡", "高价…银行卡"}


def test_a_broken_co_occurrence_is_reported(tmp_path):
    write(tmp_path, "fraud.txt", "…银行卡\t0.7\n收|…卡\t0.7\n刷单\t0.8\n")
    lx = Lexicon.load(tmp_path)
    assert [p.line for p in lx.problems] == [2, 3]
    assert lx.match("刷单")


def test_a_benign_word_hides_the_term_inside_it(tmp_path):
    write(tmp_path, "drugs.txt", "冰\t0.3\tweak\n")
    write(tmp_path, "abuse_hate.txt", "女的都…畜生\t0.6\n")
    write(tmp_path, "benign.txt", "冰箱\n子女的都\n")
    lx = Lexicon.load(tmp_path)
    assert not lx.match("冰箱到货了")
    assert lx.match("冰 有货")
    assert not lx.match("杀亲生子女的都是畜生")
    assert lx.match("女的都是畜生")


def test_a_benign_word_that_a_co_occurrence_lists_is_still_its_part(tmp_path):
    # 小姐姐 is benign (小姐 inside it is no hit) and a part of the price rule: both hold
    write(tmp_path, "porn_sexual.txt", "小姐\t0.3\tweak\n妹子|小姐姐…多少钱一晚\t0.6\n")
    write(tmp_path, "benign.txt", "小姐姐\n")
    lx = Lexicon.load(tmp_path)
    assert {h.term for h in lx.match("小姐姐多少钱一晚")} == {"小姐姐…多少钱一晚"}
    assert not lx.match("小姐姐好漂亮")


def test_minor_tagged_terms_are_marked(bundled):
    minors = {h.term for h in bundled.match("萝莉 初中生 资源") if h.minor}
    assert minors == {"萝莉", "初中生"}
    assert not any(h.minor for h in bundled.match("楼凤 上门服务"))


def test_fold_words_are_strong_chinese_terms_only(bundled):
    assert "博彩" in bundled.fold_terms
    assert "冰" not in bundled.fold_terms  # one character
    assert "叶子" not in bundled.fold_terms  # weak
    assert all(t.isascii() is False for t in bundled.fold_terms)


def test_terms_can_be_tried_in_memory_and_a_bad_one_is_named():
    lx = Lexicon.from_terms({"新货": "x", "高价…收卡": "y"})
    assert {h.term for h in lx.match("新货 高价收卡")} == {"新货", "高价…收卡"}
    with pytest.raises(ValueError, match="'…收卡'"):
        Lexicon.from_terms({"…收卡": "x"})


@pytest.mark.parametrize("category, minimum", [("pii_leak", 80), ("gambling", 80), ("drugs", 80),
                                               ("weapons", 80), ("violence_terror", 80), ("illicit_ads", 80)])
def test_the_thin_lexicons_were_filled_out(category, minimum):
    lines = (DEFAULT_DIR / f"{category}.txt").read_text(encoding="utf-8").splitlines()
    assert len([ln for ln in lines if ln.strip() and not ln.startswith("#")]) >= minimum


def test_the_doxxing_vocabulary_is_in_pii_leak(bundled):
    for word in ("开盒", "人肉", "社工库", "户籍", "开房记录", "查档", "轨迹", "身份证正反面"):
        assert any(word in t for t in bundled.terms("pii_leak")), word


def test_alternatives_outside_a_co_occurrence_are_reported_not_loaded_as_a_literal(tmp_path):
    write(tmp_path, "fraud.txt", "稳赚|必赚\t0.6\n刷单\t0.6\n")
    lx = Lexicon.load(tmp_path)
    assert [(p.line, "no '…'" in p.message) for p in lx.problems] == [(2, True)]
    assert lx.terms("fraud") == ("刷单",)


def test_a_duplicate_exception_is_refused_at_load_as_file_and_line(tmp_path):
    write(tmp_path, "fraud.txt", "刷单\t0.9\n")
    write(tmp_path, "exceptions.txt", "fraud\t警惕\t0.3\nfraud\t笑死\t0.5\nfraud\t警惕\t0.4\n*\t警惕\t0.4\n")
    lx = Lexicon.load(tmp_path)
    assert [str(p) for p in lx.problems] == ["exceptions.txt:4: duplicate exception fraud\t警惕 (first at line 2)"]
    # the first listing holds; the same pattern for another category is no duplicate
    assert sorted((e.category, e.factor) for e in lx.scan("警惕刷单").exceptions) == [("*", 0.4), ("fraud", 0.3)]


def test_the_bundled_exceptions_have_no_duplicate(bundled):
    assert not [p for p in bundled.problems if "duplicate exception" in p.message]
