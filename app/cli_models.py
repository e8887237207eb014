"""`patrol export-labels`, `patrol recall-sample` and `patrol model list | promote | rollback`:
the officers' labels and the model registry on the command line (issue 15). What they do lives
in patrol.labels, patrol.store (the labels), patrol.model_registry and patrol.model_lifecycle."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from patrol.settings import Settings

model_app = typer.Typer(help="The registry of model versions: list, promote, roll back.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("export-labels")(export_labels)
    app.command("recall-sample")(recall_sample)
    app.add_typer(model_app, name="model")


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"patrol: {message}", err=True)
    raise typer.Exit(code)


def services(settings: Settings | None = None):
    from app.bootstrap import build_services

    return build_services(settings or Settings())


def parse_since(value: str | None) -> datetime | None:
    """YYYY-MM-DD (that day, 00:00 UTC) or an ISO time; naive times are UTC."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value) if "T" in value or " " in value else \
            datetime.combine(date.fromisoformat(value), datetime.min.time())
    except ValueError:
        fail(f"--since {value!r}: not a date (YYYY-MM-DD) or an ISO time (YYYY-MM-DDTHH:MM[+08:00])")
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def export_labels(
    since: Optional[str] = typer.Option(None, "--since", help="Only labels given on or after this date (YYYY-MM-DD, UTC) or time."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write here (default: standard output)."),
) -> None:
    """Officers' labels as training JSONL: id, text, category, dataset "officer_decisions", split
    "train"; one row per post (its latest label), no author, source or url."""
    from patrol.store import StoreUnavailable

    when = parse_since(since)
    try:
        exported = services().store.training_labels(when)
    except StoreUnavailable as exc:
        fail(str(exc), 1)
    for message in exported.skipped:
        typer.echo(message, err=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in exported.rows)
    if out is None:
        sys.stdout.write(lines)
    else:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(lines, encoding="utf-8")
        tmp.replace(out)  # a reader never sees half a file
    typer.echo(f"exported {len(exported.rows)} label(s){' to ' + str(out) if out else ''}"
               f"{f', skipped {len(exported.skipped)}' if exported.skipped else ''}", err=True)


def recall_sample(
    day: Optional[str] = typer.Option(None, "--day", help="The day (UTC, YYYY-MM-DD) whose posts to sample; default today."),
    size: int = typer.Option(50, "--size", min=1, max=1000, help="Posts in the day's sample."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (for a reproducible draw)."),
) -> None:
    """Draw a day's recall sample (抽检): posts that raised no alert, stratified by source, into the
    console's labelling queue. A day is drawn once; run it daily (cron, systemd timer)."""
    try:
        which = date.fromisoformat(day) if day else datetime.now(timezone.utc).date()
    except ValueError:
        fail(f"--day {day!r}: not a date (YYYY-MM-DD)")
    drawn = services().store.draw_recall_sample(which, size, datetime.now(timezone.utc), seed)
    by_source: dict[str, int] = {}
    for p in drawn:
        by_source[p.source] = by_source.get(p.source, 0) + 1
    typer.echo(f"recall sample of {which}: {len(drawn)} post(s)"
               + "".join(f"\n  {s:<24} {n}" for s, n in sorted(by_source.items())))


@model_app.command("list")
def model_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every registered model version with its card's figures; * marks the one in use."""
    from app.bootstrap import model_registry
    from patrol.model_registry import BUNDLED, RegistryError

    registry = model_registry(Settings())
    try:
        versions = registry.list()
        current = registry.current()
    except RegistryError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"current": current or BUNDLED,
                               "versions": [{"version": v.version, "current": v.current, "card": v.card}
                                            for v in versions]}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'*' if current is None else ' '} {BUNDLED:<20} the model shipped in nlp/data/model/")
    for v in versions:
        figures = v.card.get("figures", {})
        held, dev = figures.get("held_back", {}), figures.get("dev", {})
        typer.echo(f"{'*' if v.current else ' '} {v.version:<20} {v.card.get('registered_at', '')[:19]}  "
                   f"{v.card.get('verdict', '?'):<8} held-back {_f1(held)}  dev {_f1(dev)}  {v.card.get('reason', '')}")


def _f1(fig: dict) -> str:
    got = fig.get("candidate", {}).get("macro_f1")
    return f"{got:.4f}" if isinstance(got, (int, float)) else "  -   "


@model_app.command("promote")
def model_promote(version: str = typer.Argument(..., help="A version from `patrol model list`.")) -> None:
    """Put a registered version in use (audited as model.promoted, with its figures)."""
    from app.bootstrap import model_registry
    from patrol.model_lifecycle import promote_by_hand
    from patrol.model_registry import BUNDLED, RegistryError

    settings = Settings()
    try:
        before = promote_by_hand(services(settings).store, model_registry(settings), version)
    except RegistryError as exc:
        fail(str(exc))
    typer.echo(f"promoted {version} (was {before or BUNDLED}); running servers and crawl loops pick it up")


@model_app.command("rollback")
def model_rollback() -> None:
    """Go back to the version promoted before the current one (or the bundled model)."""
    from app.bootstrap import model_registry
    from patrol.model_lifecycle import rollback
    from patrol.model_registry import BUNDLED, RegistryError

    settings = Settings()
    try:
        dropped, restored = rollback(services(settings).store, model_registry(settings))
    except RegistryError as exc:
        fail(str(exc))
    typer.echo(f"rolled back {dropped}; {restored or BUNDLED} is in use again")
