"""Which Patrol home a command works on, and whether it holds Patrol data.

A command that reads or adds data never creates a home by accident: run in the wrong directory,
`patrol audit verify` used to make a new empty database and report it intact. Only `patrol init`
and `patrol demo` create one; every other command names the home it uses and refuses a missing or
empty one with what to do.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from patrol.settings import Settings

SQLITE_FILE = "patrol.db"


@dataclass(frozen=True)
class HomeCheck:
    description: str           # "home /abs/var, database sqlite:///…" for the command to print
    problem: str | None        # why it is not a Patrol home yet, or None when it is


def check_home(settings: Settings) -> HomeCheck:
    home = settings.home.resolve()
    if settings.database_url:
        shown = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
        description = f"home {home}, database {shown}"
        return HomeCheck(description, None if _has_tables(settings.resolved_database_url) else
                         f"the database {shown} holds no Patrol data")
    description = f"home {home}"
    if not home.is_dir():
        return HomeCheck(description, f"{home} does not exist")
    if not (home / SQLITE_FILE).is_file():
        return HomeCheck(description, f"{home} holds no Patrol database ({SQLITE_FILE})")
    return HomeCheck(description, None)


def _has_tables(url: str) -> bool:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    engine = create_engine(url)
    try:
        return inspect(engine).has_table("alembic_version")
    except Exception:  # unreachable: the Store says so, with the reason, when the command opens it
        return True
    finally:
        engine.dispose()
