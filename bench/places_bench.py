"""Place resolution measured on real comments (not written for the gazetteer's rules): precision
and recall at province and city level.

The rows are public comments from ../shared/datasets/real/chnci_comments.jsonl.gz (read here, never
copied into the repository: its shipping rule). The labels are an overlay of row ids,
bench/data/places_real_labels.jsonl, written by hand after the guide bench/data/PLACES_LABELLING.md.

    python -m bench.places_bench [--real ../shared/datasets/real]

Counting (per comment): the resolver's answer for the text alone (no source place) is a
prediction at province level when resolved, at city level when resolved to a city or finer. A
prediction is right when its province (city) is one the comment names. Precision: right / made;
recall: comments naming a province (city) that got a right prediction / comments naming one.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
from pathlib import Path

LABELS = Path(__file__).resolve().parent / "data" / "places_real_labels.jsonl"
# The shared data sit beside the repository (../shared/datasets/real); PATROL_REAL_DATA moves them.
REAL = Path(os.environ.get("PATROL_REAL_DATA", "../shared/datasets/real"))
MUNICIPALITIES = ("11", "12", "31", "50")   # no prefecture city below them: counted at province level


def load_labels(path: Path = LABELS) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: a row id is labelled twice")
    return rows


def load_texts(ids: set[str], real: Path = REAL) -> dict[str, str]:
    texts = {}
    with gzip.open(real / "chnci_comments.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["id"] in ids:
                texts[r["id"]] = r["text"]
    missing = ids - set(texts)
    if missing:
        raise ValueError(f"{len(missing)} labelled ids are not in the dataset, e.g. {sorted(missing)[0]}")
    return texts


def measure(labels: list[dict], texts: dict[str, str], gazetteer=None) -> dict:
    from nlp.gazetteer import default_gazetteer

    gaz = gazetteer or default_gazetteer()
    tally = {level: {"made": 0, "right": 0, "named": 0, "found": 0} for level in ("province", "city")}
    misses = []
    for row in labels:
        named = {"province": {c[:2] for c in row["places"]},
                 "city": {c[:4] for c in row["places"] if len(c) >= 4 and c[:2] not in MUNICIPALITIES}}
        place = gaz.resolve(texts[row["id"]])
        code = place.code if place.status == "resolved" else ""
        said = {"province": code[:2], "city": code[:4] if len(code) >= 4 and code[:2] not in MUNICIPALITIES else ""}
        for level in ("province", "city"):
            t = tally[level]
            t["named"] += bool(named[level])
            if said[level]:
                t["made"] += 1
                right = said[level] in named[level]
                t["right"] += right
                t["found"] += right and bool(named[level])
        if said["province"] not in named["province"] | {""} or (named["province"] and not code):
            misses.append({"id": row["id"], "labelled": row["places"], "resolved": code, "status": place.status})
    out = {"comments": len(labels), "naming_a_place": sum(1 for r in labels if r["places"])}
    for level, t in tally.items():
        out[level] = {"precision": round(t["right"] / t["made"], 3) if t["made"] else None,
                      "recall": round(t["found"] / t["named"], 3) if t["named"] else None, **t}
    out["misses"] = misses
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--real", type=Path, default=REAL, help="the real-text datasets' folder (../shared/datasets/real)")
    args = ap.parse_args(argv)
    labels = load_labels()
    result = measure(labels, load_texts({r["id"] for r in labels}, args.real))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return result


if __name__ == "__main__":
    main()
