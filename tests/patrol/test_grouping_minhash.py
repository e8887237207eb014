"""The MinHash of patrol/grouping.py computed in numpy uint64 arithmetic gives exactly the values
of Python's integers (stored signatures and group keys must not change)."""
from __future__ import annotations

import hashlib
import random

import numpy as np

from patrol import grouping


def python_minhash(text: str):
    """The reference: the formula in Python integers, as the signatures were first computed."""
    compact = grouping._BLANKS.sub("", text)
    if len(compact) < grouping.MIN_CHARS:
        return None
    grams = {int.from_bytes(hashlib.blake2b(compact[i:i + 3].encode("utf-8"), digest_size=8).digest(), "big")
             for i in range(len(compact) - 2)}
    return tuple(min((a * h + b) % grouping._PRIME for h in grams) & 0xFFFFFFFF for a, b in grouping._PERMS)


def test_the_numpy_minhash_equals_the_integer_formula_on_random_texts():
    rnd = random.Random(7)
    chars = "兼职刷单返利日结三百每天只需动动手指详情加微信咨询名额有限先到先得菠菜冰糖abcXYZ0123 ，。"
    for _ in range(500):
        text = "".join(rnd.choice(chars) for _ in range(rnd.randint(1, 400)))
        assert grouping.minhash(text) == python_minhash(text), text


def test_the_modular_step_is_exact_at_the_edges_of_64_bits():
    rnd = random.Random(8)
    p = grouping._PRIME
    values = [0, 1, p - 1, p, p + 1, 2 * p, 2**63, 2**64 - 1] + [rnd.getrandbits(64) for _ in range(2000)]
    got = grouping._mod_mul_add(np.array(values, dtype=np.uint64)[None, :])
    for row, (a, b) in zip(got, grouping._PERMS):
        assert [int(x) for x in row] == [(a * v + b) % p for v in values]
