"""What every data command does first: name the home it works on, and refuse one that holds no
Patrol data instead of creating it silently (patrol.home). `patrol init` and `patrol demo` create."""
from __future__ import annotations

import typer

from patrol.home import check_home
from patrol.settings import Settings


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"patrol: {message}", err=True)
    raise typer.Exit(code)


def open_services(settings: Settings | None = None, *, create: bool = False):
    """The services over the configured home; without `create`, only over an existing one."""
    from app.bootstrap import build_services

    settings = settings or Settings()
    if not create:
        check = check_home(settings)
        typer.echo(f"patrol: using {check.description}", err=True)
        if check.problem:
            fail(f"{check.problem}, so it is not a Patrol home. Run `patrol init` to create one there, "
                 "or set PATROL_HOME (and PATROL_DATABASE_URL) to an existing one.")
    return build_services(settings)


def init(settings: Settings | None = None) -> None:
    """Create the home (directory, database, index) where PATROL_HOME points, or open it again."""
    settings = settings or Settings()
    before = check_home(settings)
    services = open_services(settings, create=True)
    services.store.counts()
    services.index.count()
    services.close()
    verb = "created" if before.problem else "already a Patrol home:"
    typer.echo(f"{verb} {check_home(settings).description}")
