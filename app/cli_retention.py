"""`patrol retention run`: the retention steps of patrol/retention.py, once, each audited."""
from __future__ import annotations

from datetime import datetime, timezone

import typer

retention_app = typer.Typer(help="Purge what the retention periods no longer keep.", no_args_is_help=True)


@retention_app.command("run")
def retention_run() -> None:
    """Purge posts that raised no alert after PATROL_RETENTION__POSTS_WITHOUT_ALERT_DAYS days
    (alerted posts and their evidence are kept); prints and audits the counts."""
    from app.bootstrap import IndexOnUse
    from app.cli import _services
    from patrol.retention import run_retention

    services = _services()  # over an existing home only, its audit key checked
    # IndexOnUse: an index that cannot be opened is reported by the step, which then purges nothing.
    results = run_retention(services.store, IndexOnUse(services), services.settings.retention,
                            datetime.now(timezone.utc))
    if not results:
        typer.echo("retention: every period is 0 (keep forever); nothing purged")
    for r in results:
        counts = ", ".join(f"{k} {v}" for k, v in r.counts.items())
        typer.echo(f"retention {r.name}: {counts}")
    if any("stopped" in r.counts for r in results):
        raise typer.Exit(3)
