"""Undo the tricks evaders use to hide words, and keep a trail of every change.

`normalise(text)` runs a fixed list of passes (zero-width, full-width, variant, traditional,
look-alike, separator, split-character, link-dot, pinyin, homophone, numeral). Each pass only finds
spans to replace; `_Rewriter` keeps the edits as non-overlapping spans of the ORIGINAL text,
so the trail can be shown to a reviewer ("薇❤信 → 微信") and any span of the normalised text
can be mapped back to the original for highlighting.

Clean text is the common case, so every pass first checks cheaply (one regex search or one
str.translate) whether it has anything to do, and no per-character Python work happens unless
it has.

The work is split by job: `offset_rewriter` (the edits and the `Normalised` result),
`char_tables` (character tables and probes), `pinyin`, `homophones`, `normalise_passes` (the
passes); this module runs them in order and is the public entry point.
"""
from __future__ import annotations

from nlp.char_tables import (_FULLWIDTH, _FULLWIDTH_RE, _LOOKALIKES, _LOOKALIKE_PROBE, _PLUS_RE, _VARIANT,  # noqa: F401
                             _VARIANT_RE, _ZERO_WIDTH_RE, CJK)
from nlp.normalise_passes import (_char_table_pass, _link_dot_pass, _lookalike_pass, _rare_probe, _regex_pass,  # noqa: F401
                                  _homophone_pass, _numeral_pass, _separator_pass, _split_pass, _traditional_pass,
                                  _traditional_probe)
from nlp.offset_rewriter import Normalised, _finish, _Rewriter, apply_trail  # noqa: F401
from nlp.pinyin import _INITIALS, _PINYIN, _pinyin_subs  # noqa: F401

__all__ = ["Normalised", "apply_trail", "normalise", "CJK"]


def normalise(text: str, fold_terms: frozenset[str] | set[str] = frozenset()) -> Normalised:
    """Normalise `text` for matching; see the module docstring for the passes and their order.

    `fold_terms`: words (the lexicon's `Lexicon.fold_terms`) that a space, dot or emoji between
    two Chinese characters may not split. The homophone keys and pinyin terms always count.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalise() takes str, not {type(text).__name__}")
    rw = _Rewriter(text)
    if not text.isascii():
        if "+" in text or _rare_probe().search(text):
            if _ZERO_WIDTH_RE.search(text):
                _regex_pass(rw, "zero_width", _ZERO_WIDTH_RE, lambda m: "")
            _char_table_pass(rw, "fullwidth", _FULLWIDTH, _FULLWIDTH_RE)
            _char_table_pass(rw, "variant", _VARIANT, _VARIANT_RE)
            _traditional_pass(rw)
            _lookalike_pass(rw)
        _separator_pass(rw, fold_terms)
        _split_pass(rw)
    elif "+" in text:
        _regex_pass(rw, "lookalike", _PLUS_RE, lambda m: "加")
    _link_dot_pass(rw)
    rw.replace("pinyin", _pinyin_subs(rw.text))
    _homophone_pass(rw)
    _numeral_pass(rw)
    return _finish(rw)
