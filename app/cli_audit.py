"""`patrol audit verify` and `patrol audit checkpoint`: the audit trail checked with its key and
against the signed checkpoints outside the database (docs/AUDIT.md)."""
from __future__ import annotations

import typer

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


def _services():
    from app.cli import _services as services

    return services()


def _fail(message: str, code: int) -> None:
    typer.echo(f"patrol: {message}", err=True)
    raise typer.Exit(code)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the chain's HMACs and the last checkpoint; exit 0 intact, 1 broken (rewritten,
    truncated, emptied), 2 when the key or the checkpoint file cannot be used."""
    from patrol.audit import NO_KEY, WRONG_KEY
    from patrol.audit_anchor import verify

    services = _services()
    v = verify(services.store, services.checkpoints)
    against = (f"the checkpoint of {v.checkpoint_at} (seq {v.checkpoint_seq})" if v.checkpoint_seq is not None
               else "no checkpoint (run `patrol audit checkpoint`)")
    if v.ok:
        keyed = f"keyed ({services.store.audit_key.key_id})" if v.keyed else "NOT keyed"
        typer.echo(f"audit trail intact: {v.checked} event(s), {keyed}, checked against {against}")
        return
    what = (v.problem or "broken").upper().replace("_", " ")
    at = f" at event {v.first_bad_seq}" if v.first_bad_seq is not None else ""
    typer.echo(f"audit trail {what}{at}: {v.reason}", err=True)
    raise typer.Exit(2 if v.problem in (NO_KEY, WRONG_KEY) else 1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    last: bool = typer.Option(False, "--last", help="Print the last checkpoint instead of writing one."),
) -> None:
    """Verify the chain, sign its head and append it to the checkpoint file; prints the line for
    an external notary (keep a copy away from this machine)."""
    from patrol.audit_anchor import ChainBroken, take_checkpoint
    from patrol.checkpoints import CheckpointError

    services = _services()
    log = services.checkpoints
    try:
        cp = log.last() if last else take_checkpoint(services.store, log)
    except (ChainBroken, CheckpointError) as exc:
        _fail(str(exc), 1)
    if cp is None:
        _fail(f"{log.path}: no checkpoint yet", 1)
    typer.echo(f"{'last checkpoint in' if last else 'checkpoint appended to'} {log.path}:")
    typer.echo(cp.to_line())
    typer.echo(f"for the notary: store {cp.store_id}, {cp.seq} event(s), head {cp.hash}, at {cp.at}, "
               f"key {cp.key_id}, signature {cp.sig}")
