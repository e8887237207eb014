"""Real short posts for training: the shared real corpora joined, at run time, to the project's labels.

The corpora under `../shared/datasets/real/` may be trained on but not redistributed, and they
carry none of the taxonomy's labels. The project keeps its labels as OVERLAYS in
`nlp/data/labels/overlays/*.tsv`: a shared row id, a category, who labelled it and under which
version of the labelling guide (`nlp/data/labels/GUIDE.md`). Training reads the rows from the
shared folder and the labels from here; no row text is ever stored in the repository.

Besides the per-row labels, a few SOURCE RULES map a corpus's own human labels where they already
mean one of our categories (the fake-base-station SMS set's `IL:Gambling` is gambling). They are a
table below, documented in the guide, and a per-row overlay always wins over them.

The fake-base-station SMS were pre-processed by their authors: contacts and numbers are placeholders
(`URL`, `WECHAT`, `CELLPHONE`…). Left as they are the model learns the placeholders, which never
occur in real traffic, so `realistic_fbs_text` writes a plausible value in each, fixed per row.
"""
from __future__ import annotations

import gzip
import json
import random
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from nlp.categories import ALL_CODES, NONE

LABELS_DIR = Path(__file__).parent / "data" / "labels"
OVERLAY_DIR = LABELS_DIR / "overlays"
OVERLAY_HEADER = ("id", "category", "labeller", "guide")
GUIDE_VERSION = "g2"

# The corpora and how to open them (file names as in the shared README).
CORPORA = {
    "tg_spam": "tg_spam.jsonl",
    "chnci": "chnci_comments.jsonl.gz",
    "fbs_sms": "fbs_sms.jsonl",
    "sms_spam_sample": "sms_spam_sample.jsonl",
    "toxirewrite": "toxirewrite.jsonl",
}

# (corpus, source label) -> category: source labels that are human labels meaning one of ours.
# Loan ads, "FR:Other" and "AD:Other" mix several of our categories, so they are labelled per row.
SOURCE_RULES: dict[tuple[str, str], str] = {
    ("fbs_sms", "IL:Gambling"): "gambling",
    ("fbs_sms", "IL:Escort_service"): "porn_sexual",
    ("fbs_sms", "IL:Fake_ID_and_invoice"): "illicit_ads",
    ("fbs_sms", "FR:Phishing(Bank)"): "fraud",
    ("fbs_sms", "FR:Phishing(Other)"): "fraud",
    ("fbs_sms", "FR:Financial"): "fraud",
    ("fbs_sms", "AD:Retail"): NONE,
    ("fbs_sms", "AD:Network_service"): NONE,
    ("fbs_sms", "AD:Real_estate"): NONE,
    # ToxiRewriteCN: every text is toxic by the source's own manual annotation
    ("toxirewrite", "toxic"): "abuse_hate",
}
SOURCE_LABELLER = "source-label"

# Share of real labelled rows held out as dev (by a stable hash of the id); dev is split again into
# a tune half (thresholds) and a report half (only measured) by nlp.training_data.dev_half.
DEV_SHARE = 5  # one row in five


class OverlayError(ValueError):
    """A label overlay that cannot be used; the message names the file, the line and the reason."""


@dataclass(frozen=True)
class OverlayLabel:
    row_id: str
    category: str
    labeller: str
    guide: str


def load_overlays(directory: str | Path = OVERLAY_DIR) -> dict[str, OverlayLabel]:
    """Every overlay file of `directory`, refused whole on the first broken line: a label silently
    dropped or read twice changes what the model learns without anyone seeing it."""
    return _load(sorted(Path(directory).glob("*.tsv")))


def load_overlays_file(path: str | Path) -> dict[str, OverlayLabel]:
    return _load([Path(path)])


def _load(paths: list[Path]) -> dict[str, OverlayLabel]:
    labels: dict[str, OverlayLabel] = {}
    where: dict[str, str] = {}
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                fields = line.split("\t")
                if tuple(fields) == OVERLAY_HEADER:
                    continue
                at = f"{path}:{lineno}"
                if len(fields) != len(OVERLAY_HEADER):
                    raise OverlayError(f"{at}: expected {len(OVERLAY_HEADER)} tab-separated fields "
                                       f"({', '.join(OVERLAY_HEADER)}), got {len(fields)}")
                row_id, category, labeller, guide = fields
                if row_id.split(":", 1)[0] not in CORPORA:
                    raise OverlayError(f"{at}: row id {row_id!r} names no known corpus ({', '.join(CORPORA)})")
                if category not in ALL_CODES:
                    raise OverlayError(f"{at}: unknown category {category!r}")
                if not labeller or not guide:
                    raise OverlayError(f"{at}: labeller and guide version must not be empty")
                if row_id in labels:
                    raise OverlayError(f"{at}: row {row_id} is already labelled at {where[row_id]}")
                labels[row_id] = OverlayLabel(row_id, category, labeller, guide)
                where[row_id] = at
    return labels


def read_corpus(real_dir: str | Path, corpus: str) -> Iterator[dict]:
    path = Path(real_dir) / CORPORA[corpus]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


_PLACEHOLDER = re.compile(r"CELLPHONE|HOTLINE|WECHAT|PHONE|DIGIT|PLACE|BANK|NAME|URL")
_CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "长沙", "郑州", "东莞", "佛山", "苏州")
_BANKS = ("工商银行", "建设银行", "农业银行", "中国银行", "招商银行", "交通银行")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_TLDS = ("com", "cn", "top", "vip", "cc", "net", "xyz")


def realistic_fbs_text(row_id: str, text: str) -> str:
    """The fake-base-station SMS with each placeholder replaced by a plausible value, the same for
    the same row on every run (seeded by the row id)."""
    rng = random.Random(zlib.crc32(row_id.encode()))

    def value(m: re.Match) -> str:
        kind = m.group(0)
        if kind == "CELLPHONE":
            return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        if kind == "PHONE":
            return "0" + str(rng.randint(10, 999)) + "-" + "".join(rng.choice("0123456789") for _ in range(8))
        if kind == "HOTLINE":
            return rng.choice(("400", "95")) + "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 7)))
        if kind == "WECHAT":
            return "".join(rng.choice("abcdefghjkmnpqrstwxyz") for _ in range(rng.randint(3, 6))) + str(rng.randint(10, 9999))
        if kind == "DIGIT":
            return str(rng.choice((rng.randint(1, 99), rng.randint(100, 9999))))
        if kind == "PLACE":
            return rng.choice(_CITIES)
        if kind == "BANK":
            return rng.choice(_BANKS)
        if kind == "NAME":
            return rng.choice(_SURNAMES) + rng.choice(("先生", "女士", "经理", "总"))
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(4, 8))) \
            + "." + rng.choice(_TLDS)

    return _PLACEHOLDER.sub(value, text)


def split_of(row_id: str) -> str:
    return "dev" if zlib.crc32(("real-split:" + row_id).encode()) % DEV_SHARE == 0 else "train"


def labelled_real_rows(real_dir: str | Path, overlays: dict[str, OverlayLabel] | None = None,
                       corpora: Iterable[str] = tuple(CORPORA)) -> list[dict]:
    """Training rows (`id, text, category, dataset, split, labeller`) for every real row that has a
    label: an overlay, else a source rule. (Rows a labeller found unreadable, `?`, have no overlay.)"""
    overlays = load_overlays() if overlays is None else overlays
    out: list[dict] = []
    for corpus in corpora:
        if not (Path(real_dir) / CORPORA[corpus]).is_file():
            continue
        for row in read_corpus(real_dir, corpus):
            label = overlays.get(row["id"])
            if label is not None:
                category, labeller = label.category, label.labeller
            else:
                category = SOURCE_RULES.get((corpus, row.get("label", "")))
                labeller = SOURCE_LABELLER
                if category is None:
                    continue
            text = row["text"]
            if corpus == "fbs_sms":
                text = realistic_fbs_text(row["id"], text)
            out.append({"id": row["id"], "text": text, "category": category, "dataset": f"real_{corpus}",
                        "split": split_of(row["id"]), "labeller": labeller})
    return out


def default_real_dir(data_paths: Iterable[str | Path]) -> Path | None:
    """`real/` beside the first training file (`../shared/datasets/real` for the shared data)."""
    for p in data_paths:
        candidate = Path(p).parent / "real"
        if (candidate / CORPORA["tg_spam"]).is_file():
            return candidate
    return None
