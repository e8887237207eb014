"""`patrol adapt`: learn the platform from its officers' labels (issue 15).

    patrol adapt --labels FILE --out MODEL   train on FILE (plus the shipped recipe), write MODEL,
                                             promote nothing (the external scorer relies on this)
    patrol adapt [--extra FILE] [--dev FILE…] [--since DATE] [--tolerance T] [--wait]
                                             the lifecycle: export the store's labels, train, judge
                                             against the model in use, promote when not worse
                                             (patrol/model_lifecycle.py)
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from app.cli_models import fail, parse_since, services
from patrol.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt)


def _read_labels(path: Path) -> list[dict]:
    """The whole file or nothing: a broken line or unknown category refuses it (never half-trained)."""
    from nlp.adapt import LabelFileError, read_label_rows

    if not path.is_file():
        fail(f"{path}: no such labels file")
    try:
        return read_label_rows(path)
    except LabelFileError as exc:
        fail(f"{exc}; nothing was trained")


def adapt(
    labels: Optional[Path] = typer.Option(None, "--labels", help="Train on this labels JSONL and write --out; promotes nothing."),
    out: Optional[Path] = typer.Option(None, "--out", help="With --labels: where to write the model."),
    extra: Optional[Path] = typer.Option(None, "--extra", help="Lifecycle: also train on this labels JSONL (never held back)."),
    dev: Optional[list[Path]] = typer.Option(None, "--dev", help="Lifecycle: dev JSONL to judge on (default: the shipped check sets)."),
    since: Optional[str] = typer.Option(None, "--since", help="Lifecycle: only labels given on or after this date."),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", min=0.0, max=1.0,
                                              help="Lifecycle: how much lower a macro-F1 may be and still count as not worse (default 0.01)."),
    wait: bool = typer.Option(False, "--wait", help="Lifecycle: wait for a running patrol adapt instead of refusing."),
) -> None:
    """Train on the platform's own labels; without --labels, judge the result and promote it when not worse."""
    if labels is not None:
        if out is None:
            fail("--labels needs --out MODEL (where to write the model); it promotes nothing")
        _train_to_file(labels, out)
        return
    if out is not None:
        fail("--out goes with --labels; without --labels, patrol adapt registers and judges the model itself")
    _lifecycle(extra, dev, since, tolerance, wait)


def _train_to_file(labels: Path, out: Path) -> None:
    from nlp.adapt import adapt_model

    rows = _read_labels(labels)
    report = adapt_model(rows, out)
    typer.echo(f"model {report['model_version']}: {out} ({report.get('seconds', 0):.0f} s); not promoted")


def _lifecycle(extra: Path | None, dev: list[Path] | None, since: str | None, tolerance: float | None,
               wait: bool) -> None:
    from app.bootstrap import build_analyzer, model_registry
    from nlp.adapt import adapt_model
    from nlp.evaluate import read_jsonl
    from patrol.model_lifecycle import DEFAULT_TOLERANCE, AdaptRefused, run_adapt, shipped_dev_files
    from patrol.model_registry import AdaptBusy, RegistryError

    settings = Settings()
    if settings.model_path is not None:
        fail(f"PATROL_MODEL_PATH pins {settings.model_path}: a promoted model would not be used; unset it first")
    when = parse_since(since)
    extra_rows = _read_labels(extra) if extra else []
    dev_files = dev or shipped_dev_files()
    dev_rows = []
    for path in dev_files:
        try:
            dev_rows += read_jsonl(path)
        except (OSError, ValueError) as exc:
            fail(f"--dev {path}: {exc}")
    svc = services(settings)
    registry = model_registry(settings)
    try:
        with registry.adapt_lock(wait=wait):
            verdict = run_adapt(
                svc.store, registry, train=lambda rows, path: adapt_model(rows, path),
                analyzer_for=lambda path: build_analyzer(settings, model_path=path),
                dev_rows=dev_rows, extra_rows=extra_rows, since=when,
                tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
                echo=lambda m: typer.echo(m, err=True))
    except AdaptBusy as exc:
        fail(str(exc), 3)
    except (AdaptRefused, RegistryError) as exc:
        fail(str(exc), 1)
    for name, f in verdict.figures.items():
        typer.echo(f"{name:<10} macro-F1 candidate {f['candidate']['macro_f1']:.4f}  current "
                   f"{f['current']['macro_f1']:.4f}  ({f['candidate']['n']} rows)")
    typer.echo(f"{'promoted' if verdict.promoted else 'refused'} {verdict.candidate} "
               f"(against {verdict.baseline}, {verdict.seconds:.0f} s): {verdict.reason}")
    if not verdict.promoted:
        raise typer.Exit(4)
