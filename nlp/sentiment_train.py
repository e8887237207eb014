"""Trains the sentiment model (nlp/sentiment.py) from the shared datasets and writes its card.

    python -m nlp.sentiment_train --data ../shared/datasets/labelled_posts.jsonl

Reads the review rows (`dataset` chinesenlpcorpus_reviews) whose `source_label` carries
`sentiment=0|1`; trains on `split == train`, measures on `split == dev`. The rows stay where they
are (their licence does not allow copying them); only the weights are written.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from nlp.sentiment import MODEL_PATH, vectorizer

_LABEL = re.compile(r"sentiment=([01])")


def read_rows(path: Path):
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        if row.get("dataset") != "chinesenlpcorpus_reviews":
            continue
        m = _LABEL.search(row.get("source_label", ""))
        if m and row.get("text"):
            corpus = row["id"].split(":")[1].split("/")[1] if "/" in row["id"] else "reviews"
            yield row["split"], corpus, row["text"], int(m.group(1))


def snownlp_baseline(dev) -> dict:
    """The published baseline beside ours, on the same rows: SnowNLP 0.12.3's sentiment model
    (naive Bayes trained by its authors on product reviews; MIT), positive when P >= 0.5."""
    from snownlp import SnowNLP

    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _split, corpus, text, label in dev:
        pred = int(SnowNLP(text).sentiments >= 0.5)
        hits[corpus][0] += int(pred == label)
        hits[corpus][1] += 1
    total = sum(h[0] for h in hits.values()) / sum(h[1] for h in hits.values())
    return {"dev_accuracy": round(total, 4),
            "dev_accuracy_by_corpus": {k: [round(v[0] / v[1], 4), v[1]] for k, v in sorted(hits.items())}}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--baseline", action="store_true",
                    help="also score the dev rows with SnowNLP's bundled sentiment model (pip install snownlp)")
    args = ap.parse_args(argv)
    from sklearn.linear_model import LogisticRegression

    rows = list(read_rows(args.data))
    train = [r for r in rows if r[0] == "train"]
    dev = [r for r in rows if r[0] == "dev"]
    vec = vectorizer()
    xt = vec.transform([r[2] for r in train])
    yt = np.array([r[3] for r in train])
    clf = LogisticRegression(C=4.0, max_iter=2000, random_state=args.seed)
    clf.fit(xt, yt)
    pred = clf.predict(vec.transform([r[2] for r in dev]))
    by_corpus: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r, p in zip(dev, pred):
        by_corpus[r[1]][0] += int(p == r[3])
        by_corpus[r[1]][1] += 1
    acc = float(np.mean(pred == np.array([r[3] for r in dev])))
    coef = clf.coef_[0].astype(np.float32)
    version = "s-" + hashlib.sha256(coef.tobytes() + np.float32(clf.intercept_[0]).tobytes()).hexdigest()[:12]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, coef=coef, intercept=clf.intercept_.astype(np.float32),
                        version=np.array([version]))
    result = {"version": version, "train_rows": len(train), "dev_rows": len(dev), "dev_accuracy": round(acc, 4),
              "dev_accuracy_by_corpus": {k: [round(v[0] / v[1], 4), v[1]] for k, v in sorted(by_corpus.items())}}
    if args.baseline:
        result["baseline_snownlp"] = snownlp_baseline(dev)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    (args.out.parent / "metrics.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                                                  encoding="utf-8")


if __name__ == "__main__":
    main()
