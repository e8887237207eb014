"""The gazetteer places posts by context, says when a name is ambiguous, and is measured on a
hand-labelled sample (tests/nlp/data/places_labelled.jsonl, 50 short posts written for this test)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.gazetteer import AMBIGUOUS, RESOLVED, UNKNOWN, default_gazetteer

SAMPLE = Path(__file__).parent / "data" / "places_labelled.jsonl"


@pytest.fixture(scope="module")
def gaz():
    return default_gazetteer()


def test_chaoyang_district_resolves_by_context_to_beijing_or_changchun(gaz):
    assert gaz.resolve("北京朝阳区一餐厅着火").code == "110105"
    assert gaz.resolve("长春市朝阳区一居民楼起火").code == "220104"
    assert gaz.resolve("朝阳区一居民楼起火", source_place="吉林省长春市").code == "220104"


def test_chaoyang_district_alone_is_ambiguous_and_says_which_places_it_could_be(gaz):
    place = gaz.resolve("朝阳区一居民楼起火")
    assert place.status == AMBIGUOUS and place.code == ""
    assert {"北京市朝阳区", "吉林省长春市朝阳区"} <= set(place.candidates)
    assert place.label.startswith("有歧义")


def test_a_text_with_no_place_and_a_source_with_no_place_are_unknown_not_a_default(gaz):
    for text in ("", "今天天气不错", "🔥🔥🔥"):
        place = gaz.resolve(text)
        assert place.status == UNKNOWN and place.label == "未知"


def test_the_source_place_places_a_post_that_names_none(gaz):
    place = gaz.resolve("楼下着火了", source_place="吉林省白山市")
    assert place.status == RESOLVED and place.city == "白山市"


def measure(gaz) -> dict[str, float]:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    figures = {}
    for level in ("province", "city"):
        tp = fp = fn = 0
        for row in rows:
            place = gaz.resolve(row["text"])
            got = getattr(place, level) if place.status == RESOLVED else ""
            want = row[level]
            if got and got == want:
                tp += 1
            elif got:
                fp += 1
                fn += bool(want)
            elif want:
                fn += 1
        figures[f"{level}_precision"] = tp / (tp + fp) if tp + fp else 0.0
        figures[f"{level}_recall"] = tp / (tp + fn) if tp + fn else 0.0
    return figures


def test_place_resolution_precision_and_recall_on_the_labelled_sample(gaz):
    figures = measure(gaz)
    print(json.dumps(figures, indent=1))   # the README quotes these figures
    assert figures["province_precision"] >= 0.95 and figures["province_recall"] >= 0.9
    assert figures["city_precision"] >= 0.9 and figures["city_recall"] >= 0.85


def test_a_district_named_by_an_everyday_word_is_placed_only_beside_its_city():
    from nlp.gazetteer import default_gazetteer

    g = default_gazetteer()
    # Real comments say 矿区 (a mining area) with no place in mind: 阳泉市矿区 is not meant.
    assert g.resolve("谁旅游去矿区啊！就贵三块钱").status == "unknown"
    assert g.resolve("谁旅游去矿区啊", "北京市").code == "11"   # the source's own place stands
    assert g.resolve("阳泉市矿区一居民楼起火").code == "140303"
    assert g.resolve("山西阳泉矿区").code == "140303"
