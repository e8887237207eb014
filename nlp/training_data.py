"""The rows training reads: labelled JSONL files given at run time, their licences, their splits.

Several datasets may not be redistributed, so rows are read from the paths given to `patrol train`
and never copied into the repository; the real short posts and their label overlays join them
through `nlp.real_data`.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from nlp.categories import HARM_CATEGORIES, NONE, TAXONOMY

# Datasets the shared README describes; the card states their licences.
DATASET_LICENCES = {
    "cold": "COLD (Deng et al., EMNLP 2022), Apache-2.0",
    "swsr": "SWSR (Jiang et al., 2022), MIT",
    "toxicn": "ToxiCN (Lu et al., ACL 2023), CC BY-NC-ND 4.0: trained on, rows not redistributed",
    "telecom_fraud_texts": "telecom-fraud scripts + everyday SMS, research use only: rows not redistributed",
    "sos1k_suicide": "SOS-1K (Qi et al., 2024), no licence file: rows not redistributed",
    "chinesenlpcorpus_reviews": "ChineseNlpCorpus reviews, no licence file: rows not redistributed",
    "silver": "composed by Patrol from its own seed files (nlp/data/silver/), project licence",
    "real_tg_spam": "tg-spam (MarkIvory2973), GPL-3.0 repository: rows not redistributed; labels are Patrol's overlays",
    "real_chnci": "CHNCI comments (zhuyiYZU), no data licence, research use: rows not redistributed; labels are Patrol's overlays",
    "real_fbs_sms": "FBS SMS (Cypher-Z, CCS 2020), no licence file: rows not redistributed; source labels mapped + overlays",
    "real_sms_spam_sample": "80万 SMS spam samples (Ydoit), no licence file: rows not redistributed; labels are Patrol's overlays",
    "real_toxirewrite": "ToxiRewriteCN (magfox26), Apache-2.0 repository, research use: rows not redistributed",
}


HUMAN_LABELLED = set(TAXONOMY.human_labelled)  # `human_labelled` in nlp/data/taxonomy.yaml


REQUIRED_FIELDS = ("text", "category")


# "Clean everyday text" for the false-positive goal. The 'none' rows of the offensive-language sets
# are not clean everyday text: they are comments on race, region and gender chosen to be hard.
CLEAN_DATASETS = frozenset({"chinesenlpcorpus_reviews", "telecom_fraud_texts", "silver"})


class TrainingDataError(ValueError):
    """A training file that cannot be used; the message names the file, the line and the reason."""


def load_rows(paths: Iterable[str | Path]) -> list[dict]:
    """Rows of every JSONL file; a broken line stops training with file:line and the reason,
    because a silently shortened training set is worse than none."""
    rows: list[dict] = []
    for path in map(Path, paths):
        if not path.is_file():
            raise TrainingDataError(f"training data not found: {path}")
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TrainingDataError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
                missing = [f for f in REQUIRED_FIELDS if not isinstance(row.get(f), str)]
                if missing:
                    raise TrainingDataError(f"{path}:{lineno}: missing or non-text field(s) {missing}")
                if row["category"] not in HARM_CATEGORIES and row["category"] != NONE:
                    raise TrainingDataError(f"{path}:{lineno}: unknown category {row['category']!r}")
                row.setdefault("dataset", path.stem)
                row.setdefault("split", "train")
                row.setdefault("id", f"{path.name}:{lineno}")
                rows.append(row)
    return rows


def labels_of(row: dict) -> tuple[str, ...]:
    labels = row.get("labels")
    if labels is None:
        labels = [] if row["category"] == NONE else [row["category"]]
    return tuple(c for c in labels if c in HARM_CATEGORIES)


def dev_half(row_id: str) -> str:
    return "tune" if zlib.crc32(row_id.encode()) % 2 == 0 else "report"


def file_digest(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def clean_mask(rows: Sequence[dict]) -> np.ndarray:
    return np.array([r.get("dataset") in CLEAN_DATASETS and not labels_of(r) for r in rows], dtype=bool)


def label_matrix(rows: Sequence[dict], labels: Sequence[str]) -> np.ndarray:
    index = {c: j for j, c in enumerate(labels)}
    Y = np.zeros((len(rows), len(labels)), dtype=bool)
    for i, r in enumerate(rows):
        for c in labels_of(r):
            Y[i, index[c]] = True
    return Y


def is_real(row: dict) -> bool:
    return str(row.get("dataset", "")).startswith("real_")
