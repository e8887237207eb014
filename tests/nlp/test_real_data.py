"""Real rows joined to the project's label overlays: what is read, what is refused, what is rewritten.

The corpora here are tiny files written by the test in the shared folder's format; no shared row
is copied into the repository.
"""
from __future__ import annotations

import json

import pytest

from nlp import labelling, real_data
from nlp.real_data import OverlayError


def write_corpus(directory, name, rows):
    with open(directory / real_data.CORPORA[name], "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


@pytest.fixture
def real_dir(tmp_path):
    d = tmp_path / "real"
    d.mkdir()
    write_corpus(d, "tg_spam", [
        {"id": "tg_spam:train.csv:1", "text": "看片加Q 123456", "label": "1"},
        {"id": "tg_spam:train.csv:2", "text": "电脑买内存条改善运行速度", "label": "0"},
        {"id": "tg_spam:train.csv:3", "text": "韵韵，仙女", "label": "1"},
    ])
    write_corpus(d, "fbs_sms", [
        {"id": "fbs_sms:IL:Gambling:1", "text": "到皇冠URL立得首次DIGIT派DIGIT", "label": "IL:Gambling"},
        {"id": "fbs_sms:AD:Loan:1", "text": "专业贷款无抵押电话CELLPHONE", "label": "AD:Loan"},
        {"id": "fbs_sms:AD:Retail:1", "text": "全场DIGIT折起URL退订回td", "label": "AD:Retail"},
    ])
    return d


def write_overlay(path, lines, header=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("id\tcategory\tlabeller\tguide\n" if header else "") + "".join(l + "\n" for l in lines),
                    encoding="utf-8")


def test_overlay_labels_join_the_rows_and_source_rules_label_the_rest(real_dir, tmp_path):
    write_overlay(tmp_path / "ov" / "a.tsv", ["tg_spam:train.csv:1\tporn_sexual\thelper-a\tg2",
                                              "tg_spam:train.csv:2\tnone\thelper-a\tg2",
                                              "fbs_sms:AD:Loan:1\tfraud\thelper-b\tg2"])
    rows = {r["id"]: r for r in real_data.labelled_real_rows(real_dir, real_data.load_overlays(tmp_path / "ov"))}
    assert rows["tg_spam:train.csv:1"]["category"] == "porn_sexual"
    assert rows["tg_spam:train.csv:1"]["labeller"] == "helper-a" and rows["tg_spam:train.csv:1"]["dataset"] == "real_tg_spam"
    # an unlabelled row with no source rule is not trained on
    assert "tg_spam:train.csv:3" not in rows
    # the source's own human label, mapped
    assert rows["fbs_sms:IL:Gambling:1"]["category"] == "gambling"
    assert rows["fbs_sms:IL:Gambling:1"]["labeller"] == real_data.SOURCE_LABELLER
    assert rows["fbs_sms:AD:Retail:1"]["category"] == "none"
    assert rows["fbs_sms:AD:Loan:1"]["category"] == "fraud"
    assert {r["split"] for r in rows.values()} <= {"train", "dev"}


def test_placeholders_of_the_fake_base_station_sms_become_plausible_values_fixed_per_row(real_dir):
    rows = {r["id"]: r for r in real_data.labelled_real_rows(real_dir, {})}
    text = rows["fbs_sms:IL:Gambling:1"]["text"]
    assert "URL" not in text and "DIGIT" not in text and text.startswith("到皇冠")
    assert real_data.realistic_fbs_text("x:1", "电话CELLPHONE") == real_data.realistic_fbs_text("x:1", "电话CELLPHONE")
    phone = real_data.realistic_fbs_text("x:1", "CELLPHONE")
    assert len(phone) == 11 and phone.isdigit() and phone[0] == "1"
    # PHONE inside CELLPHONE is not replaced twice
    assert "PHONE" not in real_data.realistic_fbs_text("x:2", "CELLPHONEWECHAT")


@pytest.mark.parametrize("line, why", [
    ("tg_spam:train.csv:1\tporn_sexual\thelper-a", "expected 4 tab-separated fields"),
    ("tg_spam:train.csv:1\tspam\thelper-a\tg2", "unknown category 'spam'"),
    ("nowhere:1\tnone\thelper-a\tg2", "names no known corpus"),
    ("tg_spam:train.csv:1\tnone\t\tg2", "must not be empty"),
])
def test_a_broken_overlay_line_is_refused_with_file_line_and_reason(tmp_path, line, why):
    path = tmp_path / "ov" / "bad.tsv"
    write_overlay(path, ["tg_spam:train.csv:2\tnone\thelper-a\tg2", line])
    with pytest.raises(OverlayError) as err:
        real_data.load_overlays(tmp_path / "ov")
    assert f"{path}:3:" in str(err.value) and why in str(err.value)


def test_a_row_labelled_twice_is_refused_naming_both_places(tmp_path):
    write_overlay(tmp_path / "ov" / "a.tsv", ["tg_spam:train.csv:1\tnone\thelper-a\tg2"])
    write_overlay(tmp_path / "ov" / "b.tsv", ["tg_spam:train.csv:1\tporn_sexual\thelper-b\tg2"])
    with pytest.raises(OverlayError, match=r"b.tsv:2: row tg_spam:train.csv:1 is already labelled at .*a.tsv:2"):
        real_data.load_overlays(tmp_path / "ov")


def test_the_shipped_overlays_load_and_name_only_known_corpora():
    labels = real_data.load_overlays()
    assert len(labels) > 10_000
    assert {l.row_id.split(":", 1)[0] for l in labels.values()} <= set(real_data.CORPORA)


def test_kappa_is_one_for_identical_labels_and_zero_for_chance_agreement():
    assert labelling.cohen_kappa(list("aabb"), list("aabb")) == 1.0
    assert labelling.cohen_kappa(list("abab"), list("aabb")) == 0.0
    a = labelling.agreement({"1": "none", "2": "fraud", "3": "fraud"}, {"1": "none", "2": "fraud", "3": "none", "4": "x"})
    assert a["rows"] == 3 and a["per_class"]["fraud"]["first"] == 2 and a["per_class"]["fraud"]["second"] == 1


def test_labeller_answers_with_a_bad_code_or_a_repeated_key_are_refused(tmp_path):
    bad = tmp_path / "out.tsv"
    bad.write_text("1-0001\tP\n1-0002\tspam\n", encoding="utf-8")
    with pytest.raises(ValueError, match="out.tsv:2: expected KEY<TAB>CODE"):
        labelling.read_answers(bad)
    bad.write_text("1-0001\tP\n1-0001\tN\n", encoding="utf-8")
    with pytest.raises(ValueError, match="out.tsv:2: key 1-0001 answered twice"):
        labelling.read_answers(bad)
    bad.write_text("1-0001\tP\n1-0002\t?\n", encoding="utf-8")
    assert labelling.read_answers(bad) == {"1-0001": "P", "1-0002": "?"}
