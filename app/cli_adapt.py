"""`patrol adapt`: fit the platform layer on officers' decisions (nlp.adapt).

With `--labels FILE --out MODEL` it trains and writes MODEL and promotes nothing: that is the
contract an external scorer relies on (classify with PATROL_MODEL_PATH=MODEL afterwards).

Without --labels it is the model lifecycle (patrol/model_lifecycle.py): export the store's labels,
train, judge the candidate against the model in use on a held-back slice of those labels and on
the shipped dev rows, and promote it only when it is not worse on either. One runs at a time.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def adapt(
    labels: Optional[Path] = typer.Option(None, "--labels", help="JSONL of decisions: id, text, category (the rows "
                                          "`patrol export-labels` writes). Without it: the lifecycle."),
    out: Optional[Path] = typer.Option(None, "--out", help="With --labels: where to write the adapted model (promotes nothing)."),
    base: Optional[Path] = typer.Option(None, "--base", help="The model to adapt (default: the shipped one)."),
    encoder: Optional[bool] = typer.Option(None, "--encoder/--no-encoder",
                                           help="Use the sentence encoder's embeddings (default: when installed)."),
    extra: Optional[Path] = typer.Option(None, "--extra", help="Lifecycle: also train on this labels JSONL (never held back)."),
    dev: Optional[list[Path]] = typer.Option(None, "--dev", help="Lifecycle: dev JSONL to judge on (default: the shipped check sets)."),
    since: Optional[str] = typer.Option(None, "--since", help="Lifecycle: only labels given on or after this date (YYYY-MM-DD)."),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", min=0.0, max=1.0, help="Lifecycle: how much "
                                              "lower a macro-F1 may be and still count as not worse (default 0.01)."),
    wait: bool = typer.Option(False, "--wait", help="Lifecycle: wait for a running patrol adapt instead of refusing."),
    dev_per_category: int = typer.Option(20, "--dev-per-category", min=0, help="Lifecycle: dev rows judged per "
                                         "category (0: all; an adapted model reads each with the encoder, slowly)."),
) -> None:
    """Learn a platform from its officers' decisions: the shipped model plus a layer fitted on the labels.
    Without --labels: train on the store's labels, judge, and promote when not worse."""
    if labels is None:
        if out is not None:
            _fail("--out goes with --labels; without --labels patrol adapt registers and judges the model itself")
        _lifecycle(base, encoder, extra, dev, since, tolerance, wait, dev_per_category)
        return
    if out is None:
        _fail("--labels needs --out MODEL (where to write the adapted model; it promotes nothing)")
    from nlp.adapt import AdaptError, LabelFileError, adapt_model, read_label_rows
    from nlp.encoder import EncoderUnavailable
    from nlp.encoder_stage import ModelLoadError

    def say(message: str) -> None:
        typer.echo(message, err=True)

    try:
        rows = read_label_rows(labels)
        report = adapt_model(rows, out, base=base, use_encoder=encoder, log=say)
    except (LabelFileError, AdaptError, ModelLoadError, EncoderUnavailable) as exc:
        typer.echo(f"patrol: adapt: {exc}; nothing written", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(report, ensure_ascii=False))


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"patrol: adapt: {message}", err=True)
    raise typer.Exit(code)


def _lifecycle(base, encoder, extra, dev, since, tolerance, wait, dev_per_category) -> None:
    from app.bootstrap import build_analyzer, build_services, model_registry
    from app.cli_models import parse_since
    from nlp.adapt import AdaptError, LabelFileError, adapt_model, read_label_rows
    from nlp.encoder import EncoderUnavailable
    from nlp.encoder_stage import ModelLoadError
    from nlp.evaluate import read_jsonl
    from patrol.model_lifecycle import DEFAULT_TOLERANCE, AdaptRefused, dev_sample, run_adapt, shipped_dev_files
    from patrol.model_registry import AdaptBusy, RegistryError
    from patrol.settings import Settings

    settings = Settings()
    if settings.model_path is not None:
        _fail(f"PATROL_MODEL_PATH pins {settings.model_path}, so a promoted model would not be used; unset it first")
    when = parse_since(since)
    try:
        # The whole file or nothing: a broken line or an unknown category refuses it.
        extra_rows = read_label_rows(extra) if extra else []
        dev_rows = dev_sample([row for path in (dev or shipped_dev_files()) for row in read_jsonl(path)],
                              dev_per_category)
    except LabelFileError as exc:
        _fail(f"{exc}; nothing was trained")
    except (OSError, ValueError) as exc:
        _fail(f"--dev: {exc}; nothing was trained")
    services = build_services(settings)
    registry = model_registry(settings)

    def say(message: str) -> None:
        typer.echo(message, err=True)

    try:
        with registry.adapt_lock(wait=wait):
            verdict = run_adapt(
                services.store, registry,
                train=lambda rows, path: adapt_model(rows, path, base=base, use_encoder=encoder, log=say),
                analyzer_for=lambda path: build_analyzer(settings, model_path=path),
                dev_rows=dev_rows, extra_rows=extra_rows, since=when,
                tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance, echo=say)
    except AdaptBusy as exc:
        _fail(str(exc), 3)
    except (AdaptRefused, AdaptError, RegistryError, ModelLoadError, EncoderUnavailable) as exc:
        _fail(f"{exc}; nothing was promoted", 1)
    for name, f in verdict.figures.items():
        typer.echo(f"{name:<10} macro-F1 candidate {f['candidate']['macro_f1']:.4f}  current "
                   f"{f['current']['macro_f1']:.4f}  ({f['candidate']['n']} rows)")
    typer.echo(f"{'promoted' if verdict.promoted else 'refused'} {verdict.candidate} "
               f"(against {verdict.baseline}, {verdict.seconds:.0f} s): {verdict.reason}")
    if not verdict.promoted:
        raise typer.Exit(4)
