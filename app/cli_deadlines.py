"""`patrol deadlines check`: one pass of the server-side deadline check (patrol.deadlines), for a
host that runs no API process, or from cron. The API process runs the same check every few seconds."""
from __future__ import annotations

from datetime import datetime, timezone

import typer

deadlines_app = typer.Typer(help="Deadlines of life-risk alerts.", no_args_is_help=True)


@deadlines_app.command("check")
def check() -> None:
    """Tell the supervisors on shift about self-harm and violence alerts gone overdue (each once, audited)."""
    from app.bootstrap import build_services
    from patrol import deadlines
    from patrol.settings import Settings

    services = build_services(Settings())
    try:
        breaches = deadlines.check(services.store, datetime.now(timezone.utc))
    finally:
        services.close()
    for b in breaches:
        told = ", ".join(b.notified) or "nobody (no active supervisor)"
        typer.echo(f"{b.alert_id} ({b.category}) overdue by {int(b.overdue_by.total_seconds() // 60)} min: told {told}"
                   + ("" if b.on_shift else " (no supervisor on shift: told every active one)"))
    typer.echo(f"{len(breaches)} passed deadline(s) noticed")
