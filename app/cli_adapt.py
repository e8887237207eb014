"""`patrol adapt`: fit the platform layer on officers' decisions (nlp.adapt).

With `--labels FILE --out MODEL` it trains and writes MODEL and promotes nothing: that is the
contract an external scorer relies on (classify with PATROL_MODEL_PATH=MODEL afterwards).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def adapt(
    labels: Path = typer.Option(..., "--labels", help="JSONL of decisions: id, text, category (the rows "
                                "`patrol export-labels` writes)."),
    out: Path = typer.Option(..., "--out", help="Where to write the adapted model (promotes nothing)."),
    base: Optional[Path] = typer.Option(None, "--base", help="The model to adapt (default: the shipped one)."),
    encoder: Optional[bool] = typer.Option(None, "--encoder/--no-encoder",
                                           help="Use the sentence encoder's embeddings (default: when installed)."),
) -> None:
    """Learn a platform from its officers' decisions: the shipped model plus a layer fitted on LABELS."""
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
