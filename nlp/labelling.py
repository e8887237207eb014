"""The labelling workflow for real rows: batches out, labels in as overlays, agreement measured.

    python -m nlp.labelling batches --real DIR --out WORKDIR [--seed N]
        draws the rows to label (a mix of every corpus, see PLAN), writes WORKDIR/batchK.tsv
        (`key<TAB>text`) for the labellers, WORKDIR/double.tsv (a sample of those keys, for a
        second independent labeller) and WORKDIR/keymap.json (key -> shared row id). WORKDIR holds
        row text: keep it outside the repository.
    python -m nlp.labelling import WORKDIR
        reads WORKDIR/out/batchK.tsv (`key<TAB>code`, codes of GUIDE.md) and writes the overlays
        nlp/data/labels/overlays/batchK.tsv and the second opinions
        nlp/data/labels/agreement/double.tsv (ids and labels only, never text).
    python -m nlp.labelling report [--write]
        Cohen's kappa, overall and per class (one class against the rest), between the overlays and
        the second opinions, and the rows per class and corpus; `--write` puts them in REPORT.md.
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import sys
from pathlib import Path
from typing import Sequence

from nlp import real_data
from nlp.real_data import GUIDE_VERSION, LABELS_DIR, OVERLAY_DIR, OVERLAY_HEADER

AGREEMENT_DIR = LABELS_DIR / "agreement"
CODES = {"G": "gambling", "P": "porn_sexual", "A": "abuse_hate", "F": "fraud", "I": "illicit_ads",
         "D": "drugs", "W": "weapons", "S": "self_harm", "V": "violence_terror", "X": "pii_leak", "N": "none"}
UNCLEAR = "?"

# What the first round drew: (corpus, source label or None for any, rows, min chars, max chars).
# Spam lines of chat groups are the closest to the platform's harmful posts; comments carry abuse
# and the real `none` of the same length and style; the FBS buckets that mix categories get per-row
# labels (the others are mapped by real_data.SOURCE_RULES).
PLAN = (
    ("tg_spam", "1", 4000, 2, 200), ("tg_spam", "0", 1200, 2, 200),
    ("chnci", "1", 2400, 4, 80), ("chnci", "0", 1200, 4, 80),
    ("sms_spam_sample", "1", 1500, 4, 160),
    ("fbs_sms", "AD:Loan", 261, 0, 10**6), ("fbs_sms", "FR:Other", 300, 0, 10**6),
    ("fbs_sms", "AD:Other", 300, 0, 10**6), ("fbs_sms", "Other", 99, 0, 10**6),
)


def make_batches(real_dir: Path, workdir: Path, n_batches: int = 5, double: int = 700, seed: int = 20261207) -> None:
    rng = random.Random(seed)
    by_corpus = {c: list(real_data.read_corpus(real_dir, c)) for c in {p[0] for p in PLAN}}
    pick = []
    for corpus, label, n, lo, hi in PLAN:
        pool = [r for r in by_corpus[corpus] if (label is None or r["label"] == label) and lo <= len(r["text"]) <= hi]
        pick += rng.sample(pool, min(n, len(pool)))
    rng.shuffle(pick)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "out").mkdir(exist_ok=True)
    keymap, lines = {}, {}
    per = -(-len(pick) // n_batches)
    for b in range(n_batches):
        with open(workdir / f"batch{b + 1}.tsv", "w", encoding="utf-8") as fh:
            for i, row in enumerate(pick[b * per:(b + 1) * per]):
                key = f"{b + 1}-{i + 1:04d}"
                keymap[key] = row["id"]
                lines[key] = row["text"].replace("\t", " ").replace("\r", " ").replace("\n", " ⏎ ")[:300]
                fh.write(f"{key}\t{lines[key]}\n")
    keys = sorted(keymap)
    rng.shuffle(keys)
    second = sorted(keys[:double])
    rng.shuffle(second)  # the second labeller sees the sample in an order of its own
    with open(workdir / "double.tsv", "w", encoding="utf-8") as fh:
        fh.writelines(f"{k}\t{lines[k]}\n" for k in second)
    (workdir / "keymap.json").write_text(json.dumps(keymap), encoding="utf-8")


def read_answers(path: Path) -> dict[str, str]:
    """`key<TAB>code` lines; a bad code or a key answered twice stops the import with file:line."""
    answers: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split("\t")
        if len(parts) != 2 or (parts[1] not in CODES and parts[1] != UNCLEAR):
            raise ValueError(f"{path}:{lineno}: expected KEY<TAB>CODE with a code of GUIDE.md, got {line!r}")
        if parts[0] in answers:
            raise ValueError(f"{path}:{lineno}: key {parts[0]} answered twice")
        answers[parts[0]] = parts[1]
    return answers


def _write_overlay(path: Path, rows: Sequence[tuple[str, str, str]], guide: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\t".join(OVERLAY_HEADER) + "\n")
        for row_id, category, labeller in sorted(rows):
            fh.write(f"{row_id}\t{category}\t{labeller}\t{guide}\n")


def import_answers(workdir: Path, guide: str = GUIDE_VERSION) -> dict[str, int]:
    keymap = json.loads((workdir / "keymap.json").read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for out in sorted((workdir / "out").glob("*.tsv")):
        answers = read_answers(out)
        unknown = sorted(set(answers) - set(keymap))
        if unknown:
            raise ValueError(f"{out}: keys not in keymap.json: {unknown[:5]}")
        labeller = f"helper-{out.stem}"
        rows = [(keymap[k], CODES[c], labeller) for k, c in answers.items() if c != UNCLEAR]
        target = (AGREEMENT_DIR if out.stem.startswith("double") else OVERLAY_DIR) / out.name
        _write_overlay(target, rows, guide)
        counts[out.stem] = len(rows)
    return counts


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = collections.Counter(a), collections.Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1.0 else (observed - expected) / (1.0 - expected)


def agreement(first: dict[str, str], second: dict[str, str]) -> dict:
    """Kappa over the rows both labelled: overall, and per class as that class against the rest."""
    common = sorted(set(first) & set(second))
    a = [first[i] for i in common]
    b = [second[i] for i in common]
    per = {}
    for c in sorted(set(a) | set(b)):
        per[c] = {"kappa": round(cohen_kappa([x == c for x in a], [y == c for y in b]), 3),
                  "first": sum(x == c for x in a), "second": sum(y == c for y in b)}
    return {"rows": len(common), "raw_agreement": round(sum(x == y for x, y in zip(a, b)) / len(common), 3) if common else None,
            "kappa": round(cohen_kappa(a, b), 3), "per_class": per,
            "confusions": collections.Counter(f"{x}->{y}" for x, y in zip(a, b) if x != y).most_common(10)}


def _labels(directory: Path) -> dict[str, str]:
    return {k: v.category for k, v in real_data.load_overlays(directory).items()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlp.labelling", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("batches")
    b.add_argument("--real", type=Path, required=True)
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--seed", type=int, default=20261207)
    i = sub.add_parser("import")
    i.add_argument("workdir", type=Path)
    i.add_argument("--guide", default=GUIDE_VERSION, help="the guide version the labellers read")
    r = sub.add_parser("report")
    r.add_argument("--write", action="store_true", help="write nlp/data/labels/REPORT.md")
    a = ap.parse_args(argv)
    if a.cmd == "batches":
        make_batches(a.real, a.out, seed=a.seed)
    elif a.cmd == "import":
        print(json.dumps(import_answers(a.workdir, a.guide)))
    else:
        text = report_markdown()
        if a.write:
            (LABELS_DIR / "REPORT.md").write_text(text, encoding="utf-8")
        print(text)
    return 0


def report_markdown() -> str:
    """The labelled-data report: rows per class and corpus (overlays and source rules), and the
    agreement of every second-opinion file with the overlays, per class."""
    overlays = real_data.load_overlays(OVERLAY_DIR)
    first = {k: v.category for k, v in overlays.items()}
    classes = sorted(set(first.values()))
    per = collections.Counter((k.split(":", 1)[0], v) for k, v in first.items())
    corpora = sorted({c for c, _ in per})
    out = ["# Labelled real rows: what there is and how far labellers agree", "",
           "Made by `python -m nlp.labelling report --write`; the labels are the overlays in `overlays/`",
           "(guide `GUIDE.md`), the second opinions in `agreement/`. Counts are rows with a readable label",
           "(`?` dropped).", "", "## Per-row labels by corpus and class", "",
           "| corpus | " + " | ".join(classes) + " | all |", "|---|" + "---|" * (len(classes) + 1)]
    for c in corpora:
        out.append(f"| {c} | " + " | ".join(str(per[(c, k)]) for k in classes) + f" | {sum(per[(c, k)] for k in classes)} |")
    out.append("| all | " + " | ".join(str(sum(per[(c, k)] for c in corpora)) for k in classes) + f" | {len(first)} |")
    guides = collections.Counter(v.guide for v in overlays.values())
    out += ["", "Guide versions: " + ", ".join(f"{g} {n}" for g, n in sorted(guides.items())) + ".", "",
            "## Source rules (`nlp/real_data.py` SOURCE_RULES)", "",
            "Rows whose corpus's own human label means one of our categories, used where no overlay labels the row:", ""]
    for (corpus, label), cat in real_data.SOURCE_RULES.items():
        out.append(f"- {corpus} `{label}` → {cat}")
    out += ["", "## Agreement (Cohen's kappa)", ""]
    for path in sorted(AGREEMENT_DIR.glob("*.tsv")):
        second = {k: v.category for k, v in real_data.load_overlays_file(path).items()}
        a = agreement(first, second)
        out += [f"### {path.name}: {a['rows']} rows labelled twice, raw agreement {a['raw_agreement']}, kappa {a['kappa']}", "",
                "| class | kappa (one vs rest) | first labeller | second labeller |", "|---|---|---|---|"]
        for c, v in a["per_class"].items():
            out.append(f"| {c} | {v['kappa']} | {v['first']} | {v['second']} |")
        out += ["", "Most frequent disagreements (first → second): " +
                (", ".join(f"{k} {n}" for k, n in a["confusions"]) or "none") + ".", ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
