"""One table of split characters (nlp/evasions.py) for the normaliser and the silver generator."""
from __future__ import annotations

import random

import pytest

from nlp import silver
from nlp.evasions import SILVER_SPLIT_PAIRS, SPLIT_CHARS, SPLIT_GUARDS, silver_split_forms
from nlp.lexicon import Lexicon
from nlp.normalise import normalise

FOLD = Lexicon.load().fold_terms


@pytest.mark.parametrize("pair,char", sorted(SPLIT_CHARS.items()))
def test_every_split_pair_is_undone_in_a_post(pair, char):
    after = {"女票": "娼"}.get(pair, "")
    n = normalise(f"出售{pair}{after}，私聊", FOLD)
    assert n.text == f"出售{char}{after}，私聊"
    assert any("split_char" in s.kind for s in n.trail)


@pytest.mark.parametrize("text,char", [("出售木仓支弹药", "枪"), ("同城约火包", "炮"), ("私耳卯", "聊"),
                                       ("纟勺吗", "约"), ("来钱快 钅戋多", "钱")])
def test_the_new_pairs_are_undone(text, char):
    assert char in normalise(text, FOLD).text


@pytest.mark.parametrize("text", [
    "积木仓库在三楼，红木仓储公司招人",
    "大楼被大火包围了，消防员用防火布把火包裹住",
    "我女票今天生日",
    "明天日月潭一日游",
    "女子学校门口，木木在等妈妈，少女未成年",
    "努力口语练习，压力口罩",
    "李子和木子都熟了",
])
def test_ordinary_text_holding_split_like_characters_is_left_alone(text):
    assert normalise(text, FOLD).text == text


def test_the_guards_only_name_listed_pairs():
    assert set(SPLIT_GUARDS) <= set(SPLIT_CHARS)


def test_silver_writes_only_split_forms_the_normaliser_undoes():
    rng = random.Random(0)
    assert set(SILVER_SPLIT_PAIRS) <= set(SPLIT_CHARS)
    for char, pair in silver_split_forms().items():
        for tail in ("娼", "客", "了", "库", "围", ""):
            text = f"这里有{char}{tail}，联系我"
            for _ in range(5):
                out = silver._split_chars(text, rng)
                if out == text:
                    continue
                assert pair in out or any(p in out for p in SILVER_SPLIT_PAIRS)
                assert normalise(out, FOLD).text == text, (text, out)
