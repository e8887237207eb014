"""Train the harm model from labelled posts given at run time, plus the project's silver data.

`train(data_paths, out_path, seed)` is what `patrol train --data PATH ...` calls. The labelled
rows are read from the paths given (several datasets may not be redistributed, so they are never
copied into the repository); the silver rows are made by `nlp.silver` from the seed files.

Dev rows are split in two by a stable hash of their id: the "tune" half fits the Platt
calibration and picks the per-category thresholds, the "report" half is only measured. So the
dev figures in the model card were not used to choose anything.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from nlp import real_data, silver
from nlp.categories import HARM_CATEGORIES, NONE
from nlp.features import FeatureConfig, FeatureExtractor, RuleSide
from nlp.model import BUNDLED_MODEL_PATH, HarmModel, model_version

log = logging.getLogger(__name__)

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
HUMAN_LABELLED = {"self_harm", "fraud", "abuse_hate"}
REQUIRED_FIELDS = ("text", "category")
CLEAN_FP_TARGET = 0.008  # keep under the 1% goal with a margin for the report half
# "Clean everyday text" for the false-positive goal. The 'none' rows of the offensive-language sets
# are not clean everyday text: they are comments on race, region and gender chosen to be hard.
CLEAN_DATASETS = frozenset({"chinesenlpcorpus_reviews", "telecom_fraud_texts", "silver"})


class TrainingDataError(ValueError):
    """A training file that cannot be used; the message names the file, the line and the reason."""


@dataclass(frozen=True)
class TrainParams:
    char_bits: int = 18
    char_max_n: int = 3
    word_bits: int = 16
    dense_scale: float = 1.0
    alpha: float = 2e-6
    epochs: int = 12
    # Positives are up-weighted towards half the negatives' weight, but at most this much: at 20,
    # SOS-1K's 800 tree-hole posts turned first-person chat ("下班一起吃饭吧") into self-harm, and
    # held-out silver recall was no better than at 8.
    positive_weight_cap: float = 8.0
    silver_per_file: int = 4000
    silver_dev_per_file: int = 800
    silver_test_per_file: int = 800
    # Real short posts labelled into the taxonomy (nlp/real_data.py) count this many times an
    # academic or silver row: they are the only rows written like the traffic officers see.
    real_weight: float = 3.0
    # pick the thresholds of the categories real posts carry on the real rows of the tune half:
    # silver dev rows are nearly separable and academic rows are long, so cuts fitted on them sit
    # where real short posts never reach
    real_thresholds: bool = True
    real_threshold_min_positives: int = 30

    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(char_bits=self.char_bits, char_max_n=self.char_max_n, word_bits=self.word_bits,
                             dense_scale=self.dense_scale)


@dataclass
class LabelMetrics:
    precision: float
    recall: float
    f1: float
    support: int
    threshold: float


@dataclass
class TrainReport:
    version: str
    model_path: str
    card_path: str
    seed: int
    params: dict
    rule_side: dict
    rows: dict[str, dict[str, int]]
    dev: dict[str, LabelMetrics]
    silver_test: dict[str, LabelMetrics]
    clean_fp_rate_tune: float
    clean_fp_rate_report: float
    artifact_bytes: int
    seconds: float
    data_sha256: str
    dev_by_dataset: dict[str, dict] = field(default_factory=dict)
    trained_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict:
        return asdict(self)


# --- data ----------------------------------------------------------------------------------------


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


# --- fitting -------------------------------------------------------------------------------------


def clean_mask(rows: Sequence[dict]) -> np.ndarray:
    return np.array([r.get("dataset") in CLEAN_DATASETS and not labels_of(r) for r in rows], dtype=bool)


def label_matrix(rows: Sequence[dict], labels: Sequence[str]) -> np.ndarray:
    index = {c: j for j, c in enumerate(labels)}
    Y = np.zeros((len(rows), len(labels)), dtype=bool)
    for i, r in enumerate(rows):
        for c in labels_of(r):
            Y[i, index[c]] = True
    return Y


def row_weights(rows: Sequence[dict], params: TrainParams) -> np.ndarray:
    return np.array([params.real_weight if is_real(r) else 1.0 for r in rows])


def fit_linear(X, Y: np.ndarray, params: TrainParams, seed: int,
               weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import SGDClassifier

    weights = np.ones(Y.shape[0]) if weights is None else weights

    W = np.zeros((X.shape[1], Y.shape[1]), dtype=np.float32)
    b = np.zeros(Y.shape[1], dtype=np.float32)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        pos = int(y.sum())
        if pos == 0:
            b[j] = -10.0  # a label with no examples never fires from the model
            continue
        w_pos = float(np.clip((len(y) - pos) / pos * 0.5, 1.0, params.positive_weight_cap))
        sw = np.where(y, w_pos, 1.0) * weights
        clf = SGDClassifier(loss="log_loss", alpha=params.alpha, max_iter=params.epochs, tol=None,
                            random_state=seed + j, learning_rate="optimal")
        clf.fit(X, y, sample_weight=sw)
        W[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return W, b


def fit_platt(scores: np.ndarray, Y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    platt = np.tile([1.0, 0.0], (Y.shape[1], 1))
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if 0 < y.sum() < len(y):
            lr = LogisticRegression(C=1e4).fit(scores[:, [j]], y)
            platt[j] = [lr.coef_[0, 0], lr.intercept_[0]]
    return platt


def best_f1_threshold(p: np.ndarray, y: np.ndarray, floor: float = 0.2, tolerance: float = 0.002) -> float:
    """The LOWEST probability cut whose F1 on these rows is within `tolerance` of the best.

    Silver dev data is nearly separable, so many cuts tie on F1; the lowest keeps the most recall
    for real posts, which look less like the templates than the silver dev rows do. False
    positives on clean text are then bounded separately by `cap_clean_fp`.
    """
    if y.sum() == 0:
        return 0.5
    order = np.argsort(-p)
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ps) + 1)
    f1 = 2 * tp / (k + ys.sum())
    # only cut between distinct probabilities
    distinct = np.r_[ps[1:] != ps[:-1], True]
    f1 = np.where(distinct, f1, -1)
    good = np.flatnonzero(f1 >= f1.max() - tolerance)
    i = int(good[-1])
    nxt = ps[i + 1] if i + 1 < len(ps) else 0.0
    return float(max(floor, (ps[i] + nxt) / 2))


def is_real(row: dict) -> bool:
    return str(row.get("dataset", "")).startswith("real_")


def real_post_thresholds(P: np.ndarray, Y: np.ndarray, rows: Sequence[dict], thresholds: np.ndarray,
                         min_positives: int = 30) -> np.ndarray:
    """Per category, the best-F1 cut on the real rows alone, where they hold enough positives."""
    real = np.array([is_real(r) for r in rows], dtype=bool)
    out = thresholds.copy()
    for j in range(Y.shape[1]):
        if real.any() and int(Y[real, j].sum()) >= min_positives:
            out[j] = best_f1_threshold(P[real, j], Y[real, j], floor=0.05)
    return out


def cap_clean_fp(P: np.ndarray, Y: np.ndarray, clean: np.ndarray, thresholds: np.ndarray,
                 target: float, max_threshold: float = 0.99) -> np.ndarray:
    """Raise thresholds, worst offender first, until at most `target` of clean rows are flagged."""
    t = thresholds.copy()
    Pc = P[clean]
    for _ in range(200):
        flagged = Pc >= t
        rate = flagged.any(axis=1).mean() if len(Pc) else 0.0
        if rate <= target:
            break
        j = int(np.argmax(flagged.sum(axis=0)))
        vals = np.sort(Pc[flagged[:, j], j])
        if t[j] >= max_threshold or len(vals) == 0:
            break
        # drop the lowest-scoring quarter of this label's clean false positives
        t[j] = min(max_threshold, float(vals[len(vals) // 4]) + 1e-6)
    return t


def binary_metrics(pred: np.ndarray, y: np.ndarray, threshold: float) -> LabelMetrics:
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return LabelMetrics(round(p, 4), round(r, 4), round(f, 4), int(y.sum()), round(float(threshold), 4))


# --- the recipe ----------------------------------------------------------------------------------


def train(
    data_paths: Sequence[str | Path],
    out_path: str | Path = BUNDLED_MODEL_PATH,
    seed: int = 13,
    params: TrainParams | None = None,
    card_path: str | Path | None = None,
    rules: RuleSide | None = None,
    real_dir: str | Path | None = None,
) -> TrainReport:
    started = time.monotonic()
    params = params or TrainParams()
    rules = rules or RuleSide()
    paths = [Path(p) for p in data_paths]
    human = load_rows(paths)
    real_dir = Path(real_dir) if real_dir else real_data.default_real_dir(paths)
    if real_dir is not None:
        # a real row that also stands in the academic sets keeps the academic label and split, so
        # that no dev text is trained on (ToxiRewriteCN repeats 712 COLD/ToxiCN texts)
        seen = {r["text"] for r in human}
        real = [r for r in real_data.labelled_real_rows(real_dir) if r["text"] not in seen]
        log.info("real labelled rows from %s: %d", real_dir, len(real))
        human += real
    labels = list(HARM_CATEGORIES)

    silver_train = silver.silver_rows(params.silver_per_file, seed=seed)
    silver_dev = [dict(r, split="dev") for r in silver.silver_rows(params.silver_dev_per_file, seed=seed + 1)]
    silver_test = silver.silver_rows(params.silver_test_per_file, seed=seed + 2, heldout=True)

    train_rows = [r for r in human if r["split"] == "train"] + silver_train
    dev_rows = [r for r in human if r["split"] == "dev"] + silver_dev
    tune_rows = [r for r in dev_rows if dev_half(r["id"]) == "tune"]
    report_rows = [r for r in dev_rows if dev_half(r["id"]) == "report"]
    log.info("train %d, tune %d, report %d, silver test %d", len(train_rows), len(tune_rows),
             len(report_rows), len(silver_test))

    config = params.feature_config()
    extractor = FeatureExtractor(config)

    def features(rows):
        return extractor.transform(rules.prepare([r["text"] for r in rows]))

    X = features(train_rows)
    Y = label_matrix(train_rows, labels)
    W, b = fit_linear(X, Y, params, seed, row_weights(train_rows, params))
    del X

    def scores(rows):
        return np.asarray(features(rows) @ W, dtype=np.float64) + b

    S_tune, Y_tune = scores(tune_rows), label_matrix(tune_rows, labels)
    platt = fit_platt(S_tune, Y_tune)

    def calibrate(S):
        return 1.0 / (1.0 + np.exp(-np.clip(S * platt[:, 0] + platt[:, 1], -50, 50)))

    P_tune = calibrate(S_tune)
    thresholds = np.array([best_f1_threshold(P_tune[:, j], Y_tune[:, j]) for j in range(len(labels))])
    if params.real_thresholds:
        thresholds = real_post_thresholds(P_tune, Y_tune, tune_rows, thresholds, params.real_threshold_min_positives)
    # pooled over every clean row: a cap per clean dataset was tried (2026-11-25, rounds 6-7) and
    # dropped. Everyday SMS went to 0% flagged, but the SMS rows the model flags hardest are
    # phishing-like texts labelled 'none' (a bank "入款" login link on a non-bank domain, "免费领
    # 红包…彩金…点击链接"), so the cap raised fraud's threshold from 0.27 to 0.97 and
    # short fraud posts of check set 3g fell below it (6 of 30: recall 0.77 with it, 0.97 without).
    thresholds = cap_clean_fp(P_tune, Y_tune, clean_mask(tune_rows), thresholds, CLEAN_FP_TARGET)

    P_rep, Y_rep = calibrate(scores(report_rows)), label_matrix(report_rows, labels)
    P_sil, Y_sil = calibrate(scores(silver_test)), label_matrix(silver_test, labels)
    dev = {c: binary_metrics(P_rep[:, j] >= thresholds[j], Y_rep[:, j], thresholds[j]) for j, c in enumerate(labels)}
    sil = {c: binary_metrics(P_sil[:, j] >= thresholds[j], Y_sil[:, j], thresholds[j]) for j, c in enumerate(labels)}

    def fp_rate(P, rows):
        clean = clean_mask(rows)
        return round(float((P[clean] >= thresholds).any(axis=1).mean()) if clean.any() else 0.0, 4)

    real_files = ([real_dir / f for f in real_data.CORPORA.values() if (real_dir / f).is_file()]
                  + sorted(real_data.OVERLAY_DIR.glob("*.tsv"))) if real_dir is not None else []
    data_sha = file_digest(paths + real_files + sorted(silver.SEED_DIR.glob("*.txt"))
                           + sorted(silver.LEXICON_DIR.glob("*.txt")))
    version = model_version(data_sha, {**asdict(params), "seed": seed}, (W, b, platt, thresholds))
    rows_count: dict[str, dict[str, int]] = {}
    for r in human + silver_train + silver_dev + silver_test:
        d = rows_count.setdefault(r.get("dataset", "?"), {})
        d[r["split"]] = d.get(r["split"], 0) + 1

    # no training time in the artifact, so the same data and seed give the same file; the card
    # (which says when) is rewritten on every run
    meta = {"seed": seed, "params": asdict(params), "rule_side": rules.available, "data_sha256": data_sha}
    model = HarmModel(config, labels, W, b, platt, thresholds, version, meta, rules=rules)
    out_path = Path(out_path)
    model.save(out_path)
    card = Path(card_path) if card_path else out_path.parent / "MODEL_CARD.md"
    report = TrainReport(
        version=version, model_path=str(out_path), card_path=str(card), seed=seed, params=asdict(params),
        rule_side=rules.available, rows=rows_count, dev=dev, silver_test=sil,
        clean_fp_rate_tune=fp_rate(P_tune, tune_rows), clean_fp_rate_report=fp_rate(P_rep, report_rows),
        artifact_bytes=out_path.stat().st_size, seconds=round(time.monotonic() - started, 1), data_sha256=data_sha,
    )
    report.dev_by_dataset = dev_by_dataset(paths, model)
    card.write_text(render_model_card(report), encoding="utf-8")
    return report


def dev_by_dataset(paths: Sequence[Path], model: HarmModel) -> dict[str, dict]:
    """The per-dataset dev figures (report half) for the model alone and inside the Analyzer."""
    from nlp.evaluate import dev_report

    out = {"model alone": dev_report(paths[0], model)}
    try:
        from nlp.analyzer import Analyzer
        from nlp.lexicon import Lexicon

        out["Analyzer (lexicons + detectors + model)"] = dev_report(paths[0], Analyzer(Lexicon.load(), model=model))
    except ImportError as exc:  # the rule side is optional for training
        log.warning("no Analyzer figures in the model card: %s", exc)
    return out


# --- the model card ------------------------------------------------------------------------------


def _metrics_table(metrics: dict[str, LabelMetrics], note) -> list[str]:
    lines = ["| category | precision | recall | F1 | support | threshold | labels from |", "|---|---|---|---|---|---|---|"]
    for c, m in metrics.items():
        lines.append(f"| {c} | {m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} | {m.support} | {m.threshold:.3f} | {note(c)} |")
    return lines


def _dataset_sections(by_system: dict[str, dict]) -> list[str]:
    if not by_system:
        return []
    from nlp.evaluate import dev_report_table

    out = ["## Dev figures per dataset (`python -m nlp.evaluate DATA [MODEL]`)", "",
           "Offensive = binary macro-F1 on COLD/SWSR/ToxiCN dev; fraud scripts = telecom dev; clean FP =",
           "share of review rows given any label. Report half of dev only.", ""]
    for name, rep in by_system.items():
        out += [f"### {name}", "", "```", dev_report_table(rep), "```", ""]
    return out


def render_model_card(report: TrainReport, extra_sections: Sequence[str] = ()) -> str:
    def source(c):
        return "human (public datasets)" + (" + silver" if c in ("fraud", "abuse_hate") else "") if c in HUMAN_LABELLED else "silver only (rules)"

    from nlp.analyzer import PRIMARY_TIE_MARGIN

    silver_only = [c for c in HARM_CATEGORIES if c not in HUMAN_LABELLED]
    out = [
        "# Patrol harm model: model card",
        "",
        f"- version: `{report.version}`",
        f"- file: `{Path(report.model_path).name}` ({report.artifact_bytes / 1e6:.1f} MB, skops, plain arrays only)",
        f"- trained {report.trained_at} in {report.seconds:.0f} s with seed {report.seed}; data + seed files sha256 `{report.data_sha256[:16]}`",
        f"- rule side used for features: {report.rule_side}",
        "- reproduce: `patrol train --data ../shared/datasets/labelled_posts.jsonl` "
        "(= `nlp.train.train([path], out_path, seed)`)",
        "",
        "## What it is",
        "",
        "One-vs-rest logistic scorers (SGD, log loss) over the ten harm categories, multi-label. Features:",
        "hashed character 1-3 grams and rjieba words of the NORMALISED text (nlp.normalise), plus dense",
        "rule signals: lexicon weight per category, counter-speech exceptions, contact/trade words,",
        "detector hits, long digit runs, handles, links, emoji. There is no length feature: it taught",
        "the model that short = harmful. Platt calibration and a threshold per category are fitted on",
        "the 'tune' half of dev (stable hash of the row id); every figure below is on the other half",
        "('report') or on held-out silver templates.",
        "",
        "## Primary label and alert category",
        "",
        "`Analysis.labels` is every category whose score reaches its threshold, most severe first.",
        "`Analysis.primary` is the BEST-SUPPORTED of them: the highest score, with severity breaking",
        f"near-ties (scores within {PRIMARY_TIE_MARGIN}; `nlp.analyzer.choose_primary`). It answers",
        "\"what is this post\": a gambling ad that also says 稳赚不赔 is a gambling ad, and pii_leak (what",
        "a post exposes) is the primary only when it is the only label. The alert is a",
        "different question (\"what to worry about first\"): `patrol/alerts.py` takes the most severe",
        "matched label as the alert's category (TAXONOMY.md), whatever the primary is. Single-label",
        "figures below (`patrol evaluate`, silver test, hand-written checks) score `primary`.",
        "",
        "## Data and licences",
        "",
        "| dataset | rows by split | licence / terms |",
        "|---|---|---|",
    ]
    for ds, splits in sorted(report.rows.items()):
        out.append(f"| {ds} | {', '.join(f'{k} {v}' for k, v in sorted(splits.items()))} | {DATASET_LICENCES.get(ds, 'unknown: check before shipping')} |")
    out += [
        "",
        "No training rows are stored in the repository or in the model file; non-redistributable sets",
        "are read from the path given to `patrol train`.",
        "",
        "## Categories without human-labelled data",
        "",
        f"**{', '.join(silver_only)}** have no human-labelled rows at all. Their positives are silver",
        "posts composed by `nlp/silver.py` from the project's own templates and seed lists",
        "(`nlp/data/silver/`), with evasion transforms applied at random (homophones, pinyin and",
        "initials, separators, full-width, traditional characters, split characters, spelled-out digits,",
        "emoji). Their scores below only re-measure those rules: **their recall on real posts is",
        "unevaluated.** Fraud has human rows, but they are long LLM-written scripts; short fraud ads are",
        "silver too.",
        "",
        "## Dev metrics (report half of dev, per category, binary)",
        "",
        *_metrics_table(report.dev, source),
        "",
        f"Clean rows flagged (any label): tune half {report.clean_fp_rate_tune:.2%}, report half {report.clean_fp_rate_report:.2%}.",
        "",
        "## Held-out silver test (other seed, templates never trained on)",
        "",
        "This only re-measures the templates and rules; it shows that evasions survive normalisation,",
        "not that real posts are caught.",
        "",
        *_metrics_table(report.silver_test, source),
        "",
        *_dataset_sections(report.dev_by_dataset),
        *extra_sections,
        "## Known weaknesses",
        "",
        "- Real harmful posts differ from every training source: silver recall is not real recall. A",
        "  character model trained on the public data alone finds 1-5% of real fraud/gambling/ad posts.",
        "- fraud vs illicit_ads overlap (刷单 is both a fraud bait and an order-brushing service; paid",
        "  点赞 tasks are click farming by the taxonomy but often a task scam in fact). The primary follows",
        "  the higher score, and within a near-tie the more severe label (fraud).",
        "- Gambling ads use investment-fraud words (稳赚不赔, 导师带单). Such terms are listed in both",
        "  lexicons and attributed to the category the rest of the post supports",
        "  (`nlp.analyzer._attribute_shared`); the model side still learns them from data.",
        "- The hand-written check set is small (80-odd posts) and written by the same project that wrote",
        "  the templates and lexicons; a few lexicon entries were added after seeing its misses (出原味,",
        "  代办信用卡, paid 点赞 per task, fake customer-service refunds, 好想死你们), so it is not blind.",
        "  It is a smoke test of realistic phrasing, not an estimate of the sealed-set score.",
        "- Silver dev data is nearly separable, so thresholds of silver-only categories are the lowest",
        "  cut within 0.002 F1 of the best (never below 0.2), raised where clean text got flagged; they",
        "  are guesses about real posts, not measurements.",
        "- A category whose templates all fell on the training side of the hash split has no silver",
        "  test rows (support 0 above); violence_terror is one.",
        "- abuse_hate is learned from COLD, SWSR and ToxiCN (race, region, gender, Zhihu/Tieba); other",
        "  targets and newer slang are weaker. SWSR 'none' means 'not sexist', not harmless.",
        "- self_harm positives are all from one Weibo tree hole (SOS-1K); hyperbole negatives are silver.",
        "- Clean text in the training data is mostly reviews and SMS; other genres may be flagged more.",
        "- Everyday SMS are flagged near or above the 1% clean goal (1.1-1.4% of the dev report half,",
        "  `fraud_scripts:sms_flagged_any` in the per-dataset figures above): carrier",
        "  promotions and shop offers with 点击链接/免费领取 read like the fraud scripts. Capping SMS on their",
        "  own was tried and dropped: the SMS 'none' rows scored highest are phishing-like, and the cap cost",
        "  fraud recall on short posts (nlp/README.md, Thresholds).",
        "- Features depend on the lexicons at run time; a lexicon edit shifts scores without retraining.",
        "",
        *_check_set_history(),
    ]
    return "\n".join(out)


def _check_set_history() -> list[str]:
    """The check sets' blind measurements cannot be recomputed after the fact; they are kept by
    hand in nlp/data/checks/README.md and copied into every card, one heading level down."""
    path = Path(__file__).parent / "data" / "checks" / "README.md"
    if not path.is_file():
        return []
    return ["#" + line if line.startswith("#") else line for line in path.read_text(encoding="utf-8").splitlines()] + [""]
