"""`patrol report daily --date D --out FILE`: the daily report (日报) as HTML or PDF."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import typer

report_app = typer.Typer(help="Reports: the daily report (日报).", no_args_is_help=True)


@report_app.command("daily")
def daily(date_: Optional[str] = typer.Option(None, "--date", help="YYYY-MM-DD (UTC); default yesterday."),
          out: Path = typer.Option(..., "--out", help="The file to write: .html or .pdf.")) -> None:
    """Alerts by category and place, top events with their timelines, bursts, source health."""
    from app.bootstrap import build_services
    from app.daily_report import write_report

    try:
        day = date.fromisoformat(date_) if date_ else (datetime.now(timezone.utc) - timedelta(days=1)).date()
    except ValueError:
        typer.echo(f"--date {date_!r}：日期格式应为 YYYY-MM-DD", err=True)
        raise typer.Exit(2)
    services = build_services()
    try:
        written = write_report(services.store, day, out)
    except (ValueError, RuntimeError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    finally:
        services.close()
    typer.echo(f"日报已写入 {written}")
