"""The values an analysis returns. Plain frozen dataclasses: easy to test, log and serialise.

Offsets are always into the ORIGINAL text (before normalisation), half-open [start, end), in
Python string indices (code points), so the console can highlight them directly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class TrailStep:
    """One change the normaliser made: `original[start:end]` became `replacement`.

    kind: fullwidth | traditional | variant | separator | zero_width | homophone | pinyin |
          lookalike | emoji | split_char | numeral | case; stacked kinds are joined with "+"
          (e.g. "separator+homophone"); "truncated" marks text cut before analysis (no text),
          "error" carries the reason a text could not be analysed.
    """

    kind: str
    start: int
    end: int
    original: str
    replacement: str


@dataclass(frozen=True)
class Evidence:
    """Why a label was given: a span of the original text and what matched there.

    source: lexicon | detector | model
    term: the lexicon term, detector name (e.g. "cn_id_number") or model feature that fired.
    """

    category: str
    source: str
    term: str
    start: int
    end: int
    text: str
    weight: float = 1.0
    # The normalisation steps that touched this span, so a reviewer sees why it matched ("薇❤ → 微信").
    trail: tuple["TrailStep", ...] = ()


@dataclass(frozen=True)
class Analysis:
    """The result of analysing one text.

    primary: the best-supported label (highest score; severity breaks near-ties), or "none".
             Alerts choose their own category among `labels` by severity (patrol/alerts.py).
    labels: every category whose score reached its threshold, most severe first.
    scores: category code -> probability-like score in [0, 1] for every harm category.
    evidence: spans in the original text that support the labels.
    trail: what the normaliser undid, with offsets into the original text.
    normalised: the normalised text the matchers and the model saw.
    model_version: identifies the lexicons + model that produced this result.
    features: per label, the top model features (name, weight) that pushed it up; empty for rules only.
    """

    primary: str
    labels: tuple[str, ...]
    scores: dict[str, float]
    evidence: tuple[Evidence, ...] = ()
    trail: tuple[TrailStep, ...] = ()
    normalised: str = ""
    model_version: str = ""
    features: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        # Written out rather than dataclasses.asdict, which deep-copies every value: on the ingest
        # path (twice per flagged post) asdict was a fifth of the time (bench/ingest_bench.py).
        # The same dict, key for key; tests/nlp/test_analyzer.py holds it to asdict's.
        return {
            "primary": self.primary, "labels": list(self.labels), "scores": dict(self.scores),
            "evidence": [{"category": e.category, "source": e.source, "term": e.term, "start": e.start,
                          "end": e.end, "text": e.text, "weight": e.weight, "trail": [_step(t) for t in e.trail]}
                         for e in self.evidence],
            "trail": [_step(t) for t in self.trail],
            "normalised": self.normalised, "model_version": self.model_version,
            "features": {k: [list(f) for f in v] for k, v in self.features.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Analysis":
        return cls(
            primary=d["primary"],
            labels=tuple(d.get("labels", ())),
            scores=dict(d.get("scores", {})),
            evidence=tuple(Evidence(**(e | {"trail": tuple(TrailStep(**t) for t in e.get("trail", ()))}))
                           for e in d.get("evidence", ())),
            trail=tuple(TrailStep(**t) for t in d.get("trail", ())),
            normalised=d.get("normalised", ""),
            model_version=d.get("model_version", ""),
            features={k: tuple((str(n), float(w)) for n, w in v) for k, v in d.get("features", {}).items()},
        )


def _step(t: TrailStep) -> dict:
    return {"kind": t.kind, "start": t.start, "end": t.end, "original": t.original, "replacement": t.replacement}
