"""Writes the golden files: what the live `nlp` code gives on the fixed corpus (corpus.py).

    python -m tests.nlp.golden.regenerate

Run it when a change to the normaliser, lexicons, detectors, features, model or Analyzer is
INTENDED, then read `git diff tests/nlp/golden/` before committing: every changed line is a text
whose output moved. tests/nlp/test_golden.py recomputes the same values and demands them exactly
(floats included), so a speed-up or a refactor that changes any output fails there.

The files, one JSON record per corpus text (same order):
  normalise.json      normalised text, trail, and to_original of every normalised character
  lexicon.json        lexicon hits and exception hits on the normalised text
  detectors.json      detections on the original and on the normalised text
  analyzer_rules.json Analysis.to_dict() of the rules-only Analyzer
  analyzer_model.json Analysis.to_dict() with the bundled model, and the model's probabilities
and, not per text:
  features.json       a digest of the feature matrix of the whole corpus for three configs
  explain_ties.json   explanations of a model whose weights tie (the order of tied features)
`model_version` is left out of the analyses: it hashes the lexicon files' bytes, so re-ordering a
file changes it without changing any output.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .corpus import TEXTS

GOLDEN_DIR = Path(__file__).resolve().parent

FEATURE_CONFIGS = (
    {},
    {"char_bits": 20, "word_bits": 0},
    {"char_bits": 12, "char_max_n": 4, "word_bits": 10, "dense_scale": 0.5},
)


def _lexicon():
    from nlp.lexicon import Lexicon

    return Lexicon.load()


def normalise_records(lex) -> list[dict]:
    from nlp.normalise import normalise

    out = []
    for text in TEXTS:
        n = normalise(text, lex.fold_terms)
        out.append({
            "text": text,
            "normalised": n.text,
            "trail": [asdict(s) for s in n.trail],
            "to_original": [list(n.to_original(i, i + 1)) for i in range(len(n.text))]
                           + [list(n.to_original(0, len(n.text)))],
        })
    return out


def lexicon_records(lex) -> list[dict]:
    from nlp.normalise import normalise

    out = []
    for text in TEXTS:
        m = lex.scan(normalise(text, lex.fold_terms).text)
        out.append({"text": text, "hits": [asdict(h) for h in m.hits],
                    "exceptions": [asdict(e) for e in m.exceptions]})
    return out


def detector_records(lex) -> list[dict]:
    from nlp.detectors import detect
    from nlp.normalise import normalise

    out = []
    for text in TEXTS:
        norm = normalise(text, lex.fold_terms).text
        out.append({"text": text, "original": [asdict(d) for d in detect(text)],
                    "normalised": [asdict(d) for d in detect(norm)]})
    return out


def _analysis(a) -> dict:
    d = a.to_dict()
    d.pop("model_version")
    return d


def analyzer_rules_records(lex) -> list[dict]:
    from nlp.analyzer import Analyzer

    an = Analyzer(lex)
    return [{"text": t} | _analysis(a) for t, a in zip(TEXTS, an.analyse_batch(list(TEXTS)))]


def _bundled_model():
    from nlp import model

    if not model.BUNDLED_MODEL_PATH.is_file():
        raise SystemExit(f"no bundled model at {model.BUNDLED_MODEL_PATH}")
    return model.HarmModel.load(model.BUNDLED_MODEL_PATH)


def _prepared(lex) -> list:
    from nlp.detectors import detect
    from nlp.features import Prepared
    from nlp.normalise import normalise

    out = []
    for text in TEXTS:
        norm = normalise(text, lex.fold_terms).text
        out.append(Prepared(text, norm, lex.scan(norm), tuple(detect(norm))))
    return out


def analyzer_model_records(lex) -> list[dict]:
    from nlp.analyzer import Analyzer

    m = _bundled_model()
    analyses = Analyzer(lex, model=m).analyse_batch(list(TEXTS))
    probs = m.predict(_prepared(lex))
    return [{"text": t, "model_probabilities": p} | _analysis(a) for t, a, p in zip(TEXTS, analyses, probs)]


def _digest(X) -> dict:
    X = X.tocsr()
    X.sort_indices()
    h = hashlib.sha256()
    for arr in (X.indptr, X.indices, X.data):
        h.update(str(arr.dtype).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return {"shape": list(X.shape), "nnz": int(X.nnz), "dtype": str(X.data.dtype), "sha256": h.hexdigest()}


def feature_records(lex) -> list[dict]:
    from nlp.features import FeatureConfig, FeatureExtractor

    prepared = _prepared(lex)
    out = []
    for kw in FEATURE_CONFIGS:
        ex = FeatureExtractor(FeatureConfig(**kw))
        whole = ex.transform(prepared)
        # batches of different make-up, including a short last one, must give the same rows
        parts = [_digest(ex.transform(prepared[lo:lo + 50])) for lo in range(0, len(prepared), 50)]
        names = []
        for p in prepared[::9]:
            X = ex.transform([p])
            cols = sorted(set(X.indices.tolist()))[:12]
            names.append({str(c): n for c, n in sorted(ex.names(p, set(cols)).items())})
        out.append({"config": FeatureConfig(**kw).to_dict(), "whole": _digest(whole), "batches_of_50": parts,
                    "names_every_9th": names})
    return out


def explain_ties_records() -> list[dict]:
    """Equal weights make many features contribute exactly alike: the order of tied features is
    the unstable argsort's, which any faster explanation must reproduce."""
    from nlp import features, model
    from nlp.categories import HARM_CATEGORIES

    cfg = features.FeatureConfig(char_bits=10, word_bits=8)
    n = features.FeatureExtractor(cfg).n_features
    rng = np.random.default_rng(1)
    k = len(HARM_CATEGORIES)
    weights = {"equal": np.ones((n, k)),
               "few_positive": (rng.random((n, k)) < 0.01).astype(float),
               "random": rng.normal(size=(n, k))}
    texts = list(TEXTS[::10]) + ["加微信 abc123 赌博平台 赌博平台", "一二三四五六七八九十", "aaaa bbbb aaaa"]
    prepared = [features.Prepared(t, t) for t in texts]
    out = []
    for name, W in weights.items():
        state = {"format": model.FORMAT, "version": "m-ties", "config": cfg.to_dict(), "labels": list(HARM_CATEGORIES),
                 "dense_names": list(features.DENSE_NAMES), "weights": W.astype(np.float32).astype(np.float16),
                 "intercepts": np.zeros(k, dtype=np.float32),
                 "platt": np.tile([1.0, 0.0], (k, 1)), "thresholds": np.full(k, 0.5), "meta": {}}
        m = model.HarmModel.from_state(state)
        for top in (1, 5, 30):
            out.append({"weights": name, "top": top,
                        "explanations": m.explain(prepared, top=top, labels=list(HARM_CATEGORIES))})
    return out


def compute() -> dict[str, list]:
    """Every golden file's content, as JSON-ready values (tuples are lists after a round trip)."""
    lex = _lexicon()
    values = {
        "normalise": normalise_records(lex),
        "lexicon": lexicon_records(lex),
        "detectors": detector_records(lex),
        "analyzer_rules": analyzer_rules_records(lex),
        "analyzer_model": analyzer_model_records(lex),
        "features": feature_records(lex),
        "explain_ties": explain_ties_records(),
    }
    return {name: json.loads(json.dumps(records, ensure_ascii=False)) for name, records in values.items()}


def dumps(records: list) -> str:
    """One record a line, so a diff shows which texts moved."""
    return "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records) + "\n]\n"


def path_of(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


def main() -> None:
    for name, records in compute().items():
        path_of(name).write_text(dumps(records), encoding="utf-8")
        print(f"wrote {path_of(name)} ({len(records)} records)")


if __name__ == "__main__":
    main()
