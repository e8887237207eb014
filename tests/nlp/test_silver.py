"""Silver data: deterministic, short, evasive, with hard negatives and held-out templates."""
from __future__ import annotations

import random
import statistics

import pytest

from nlp import silver
from nlp.categories import HARM_CATEGORIES
from nlp.detectors import detect


@pytest.fixture(scope="module")
def posts():
    return silver.generate(200, seed=5)


def test_the_same_seed_makes_the_same_posts_and_another_seed_others():
    a = [p.text for p in silver.generate(20, seed=1)]
    assert a == [p.text for p in silver.generate(20, seed=1)]
    assert a != [p.text for p in silver.generate(20, seed=2)]


def test_every_category_without_human_data_gets_silver_posts(posts):
    made = {c for p in posts for c in p.labels}
    assert {"gambling", "porn_sexual", "illicit_ads", "drugs", "weapons", "violence_terror", "pii_leak", "fraud"} <= made
    assert made <= set(HARM_CATEGORIES)


def test_harmful_and_clean_silver_posts_are_both_short(posts):
    harm = [len(p.text) for p in posts if p.labels]
    clean = [len(p.text) for p in posts if not p.labels]
    assert 10 <= statistics.median(harm) <= 40
    assert 8 <= statistics.median(clean) <= 40


def test_hard_negatives_are_made_and_carry_no_label(posts):
    clean = [p for p in posts if not p.labels]
    assert len(clean) >= 200
    assert any("反诈" in p.text or "诈骗" in p.text for p in clean)
    assert all(p.category == "none" for p in clean)


def test_evasions_are_applied_to_a_share_of_harmful_posts(posts):
    harm = [p for p in posts if p.labels]
    share = sum(1 for p in harm if p.evasions) / len(harm)
    assert 0.4 < share < 0.8
    assert {e for p in harm for e in p.evasions} == set(silver.EVASIONS)


def test_each_evasion_changes_text_it_applies_to():
    rng = random.Random(0)
    text = "加微信领博彩彩金 联系扣扣QQ 13812345678 张三约炮 有群"
    for name, fn in silver.EVASIONS.items():
        assert fn(text, rng) != text, name


def test_generated_identifiers_pass_the_detectors_checksums():
    rng = random.Random(4)
    for _ in range(50):
        assert [d.kind for d in detect(silver.cn_id_number(rng))] == ["cn_id_number"]
        assert "bank_card" in [d.kind for d in detect("卡号" + silver.luhn_card(rng))]


def test_heldout_posts_come_only_from_heldout_templates():
    held = silver.generate(30, seed=9, heldout=True)
    assert held
    assert all(silver.is_heldout(p.source, p.template) for p in held)
    assert not any(silver.is_heldout(p.source, p.template) for p in silver.generate(30, seed=9))


def test_a_seed_file_with_a_value_outside_a_section_is_refused_with_its_line(tmp_path):
    (tmp_path / "common.txt").write_text("[handoff]\n加我\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_text("@labels gambling\n菠菜\n[templates]\n{x}\n", encoding="utf-8")
    with pytest.raises(silver.SeedFileError, match=r"bad.txt:2: .*before any \[section\]"):
        silver.load_seeds(tmp_path)


def test_an_unknown_slot_is_refused_with_the_template():
    common = silver.SeedFile("common", ())
    sf = silver.SeedFile("x", ("gambling",), ["{nope}"])
    with pytest.raises(silver.SeedFileError, match="unknown slot {nope}"):
        silver.Composer(sf, common).fill("{nope}", random.Random(0))


def test_silver_rows_are_marked_as_silver():
    rows = silver.silver_rows(3, seed=1)
    assert all(r["dataset"] == "silver" and r["split"] == "train" for r in rows)
    assert all(r["id"].startswith("silver:") for r in rows)


def test_co_occurrence_terms_of_the_lexicon_become_words_not_patterns():
    rng = random.Random(1)
    assert silver.realise("高价收|回收…银行卡|电话卡", rng) in {"高价收银行卡", "高价收电话卡", "回收银行卡", "回收电话卡"}
    assert silver.realise("刷单返利", rng) == "刷单返利"
    assert not [p.text for p in silver.generate(150, seed=11) if "…" in p.text]


def _seed_dir(tmp_path, body: str):
    (tmp_path / "common.txt").write_text("[handoff]\n加我\n", encoding="utf-8")
    (tmp_path / "gambling.txt").write_text("@labels gambling\n[templates]\n菠菜{handoff}\n菠菜{num}\n", encoding="utf-8")
    (tmp_path / "none_x.txt").write_text(body, encoding="utf-8")
    return tmp_path


def test_a_share_makes_a_file_give_that_part_of_the_usual_count(tmp_path):
    seed_dir = _seed_dir(tmp_path, "@labels\n@share 0.25\n[templates]\n今天{num}度\n")
    posts = silver.generate(40, seed=3, seed_dir=seed_dir)
    by_source = {s: sum(1 for p in posts if p.source == s) for s in ("gambling", "none_x")}
    assert by_source["none_x"] == 20  # 40 x 2 (negatives) x 0.25
    assert by_source["gambling"] > 20


def test_a_share_outside_zero_to_one_is_refused_with_its_line(tmp_path):
    seed_dir = _seed_dir(tmp_path, "@labels\n@share 3\n[templates]\n今天{num}度\n")
    with pytest.raises(silver.SeedFileError, match=r"none_x.txt:2: '@share'"):
        silver.load_seeds(seed_dir)


def test_a_hard_negative_can_name_another_categorys_terms():
    common = silver.SeedFile("common", ())
    sf = silver.SeedFile("none_warn", (), ["评论区全是{lex:gambling}的广告"])
    composer = silver.Composer(sf, common)
    texts = {composer.fill(sf.templates[0], random.Random(i)) for i in range(30)}
    terms = silver.lexicon_terms("gambling")
    plain = {t for t in terms if "…" not in t}
    pair_starts = tuple(w for t in terms if "…" in t for w in t.split("…")[0].split("|"))

    def a_gambling_term(middle: str) -> bool:
        return middle in plain or (bool(pair_starts) and middle.startswith(pair_starts))

    assert len(texts) > 5
    assert all(a_gambling_term(t[len("评论区全是"):-len("的广告")]) for t in texts)
    assert not a_gambling_term("今天天气")
    with pytest.raises(silver.SeedFileError, match=r"unknown slot \{lex:nosuch\}"):
        composer.fill("{lex:nosuch}", random.Random(0))
