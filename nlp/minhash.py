"""What an event clusterer compares: a post's content words and their MinHash signature.

Words come from the segmented, normalised text (the same rjieba segmenter as the index), minus
stop words, single characters, numbers and links, so two reports of one incident in different
wording share what matters: the place, the thing that happened, the objects. The signature
estimates the Jaccard similarity of two word sets (the fraction of equal slots); its bands are the
keys of a locality-sensitive index, so a new post is compared only with events that share a band.
"""
from __future__ import annotations

import re
import zlib
from collections import Counter

import numpy as np

from nlp.segment import Segmenter

N_PERM = 64
BANDS = 32          # 32 bands of 2 rows: two sets at Jaccard 0.3 meet in a band 95% of the time
ROWS = N_PERM // BANDS
MIN_WORDS = 3       # fewer content words than this is too little text to place in an event
_PRIME = np.uint64((1 << 31) - 1)
_rng = np.random.default_rng(20261208)  # fixed: signatures must agree across processes and runs
_A = _rng.integers(1, (1 << 31) - 1, N_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 31) - 1, N_PERM, dtype=np.uint64)

STOP_WORDS = frozenset("""
的 了 是 在 和 与 及 也 就 都 而 还 又 很 被 把 让 给 向 从 对 于 为 以 等 这 那 这个 那个 这些 那些 一个 一些
我们 你们 他们 她们 它们 我 你 他 她 它 自己 大家 什么 怎么 为什么 如何 哪里 哪个 可以 已经 正在 目前 现在
今天 昨天 明天 今晚 昨晚 刚刚 刚才 据悉 记者 消息 报道 网友 表示 称 说 有人 没有 不是 就是 还是 但是 因为 所以
如果 虽然 然后 之后 之前 以及 或者 而且 一下 一起 一直 非常 真的 还有 知道 觉得 看到 听说 发生 出现 情况 目前
相关 部门 工作 进行 已经 有关 其中 一名 多名 一位 附近 这里 那里 视频 图片 转发 评论 点赞 求助 大概 左右
""".split())
_LINK = re.compile(r"https?://\S+|www\.\S+")
_NUMBERISH = re.compile(r"^[\d.,:%年月日时分号]+$")

_segmenter = Segmenter()


def _keep(w: str) -> bool:
    return len(w) >= 2 and w not in STOP_WORDS and not _NUMBERISH.match(w) and any(ch.isalnum() for ch in w)


def match_words(normalised_text: str) -> set[str]:
    """The word set two posts are compared on: search-mode segmentation, so 发生爆炸 also gives
    爆炸 and a report and a comment on one explosion share the word."""
    import rjieba

    text = _LINK.sub(" ", normalised_text or "").lower()
    return {w for w in (x.strip() for x in rjieba.cut_for_search(text)) if _keep(w)}


def content_words(normalised_text: str) -> list[str]:
    """The words an incident is recognised by, in order, repeats kept (for term counts)."""
    text = _LINK.sub(" ", normalised_text or "")
    out = []
    for w in _segmenter.cut(text):
        w = w.strip().lower()
        if _keep(w):
            out.append(w)
    return out


def signature(words) -> np.ndarray | None:
    """The MinHash signature of a word set; None when it has fewer than MIN_WORDS words."""
    unique = sorted(set(words))
    if len(unique) < MIN_WORDS:
        return None
    h = np.array([zlib.crc32(w.encode("utf-8")) for w in unique], dtype=np.uint64)
    return ((h[:, None] * _A[None, :] + _B[None, :]) % _PRIME).min(axis=0).astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[str]:
    """One key per band: the band number and a hash of its rows."""
    rows = sig.reshape(BANDS, ROWS).astype(np.uint64)
    folded = (rows[:, 0] * np.uint64(2654435761) + rows[:, 1]) & np.uint64(0xFFFFFFFFFFF)
    return [f"{b}:{v:x}" for b, v in enumerate(folded.tolist())]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two word sets."""
    return float(np.count_nonzero(a == b)) / N_PERM


def top_terms(counter: Counter, n: int = 10) -> list[str]:
    return [w for w, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
