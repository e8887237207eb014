"""`patrol index …`: the search index's own commands (migrate, status), and `patrol reindex --full`,
the index rebuilt from the workflow database and stamped with its identity, whatever state the old
one is in (missing, foreign, damaged). Registered in app/cli.py."""
from __future__ import annotations

from datetime import datetime, timezone

import typer

from patrol.settings import Settings

index_app = typer.Typer(help="The search index (Elasticsearch layout and versions).", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"patrol: {message}", err=True)
    raise typer.Exit(code)


def _elastic(services):
    """The ElasticIndex behind the spool, or a clear exit on the embedded index."""
    import logging

    from search.index import IndexUnavailable

    # The client logs every failed try with a traceback; the command says what failed itself.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)

    if not services.settings.elasticsearch_url:
        _fail("`patrol index` works on Elasticsearch (PATROL_ELASTICSEARCH_URL is not set); the embedded "
              "index rebuilds itself when it opens a file of an older layout")
    try:
        return services.index.index
    except IndexUnavailable as exc:
        _fail(f"Elasticsearch is unavailable, nothing was changed: {exc}", 3)


@index_app.command("migrate")
def migrate(delete_old: bool = typer.Option(False, "--delete-old", help="Delete the old version once the "
                                            "alias has moved (default: keep it for a rollback).")) -> None:
    """Build the next index version from the workflow database and move the alias to it."""
    from app.cli import _services
    from app.progress import Progress
    from patrol.index_migration import migrate_index
    from search.index import IndexUnavailable, SearchError

    services = _services()
    es = _elastic(services)
    try:
        replayed = services.index.replay()  # spooled writes first: the old version must be whole
        with Progress("patrol index migrate", total=services.store.counts()["posts"]) as progress:
            report = migrate_index(services.store, es, delete_old=delete_old, on_progress=progress.advance)
    except IndexUnavailable as exc:
        _fail(f"Elasticsearch became unavailable; the alias {es.index_name} still points at the old version "
              f"and serves it; run the command again when the cluster is back ({exc})", 3)
    except SearchError as exc:
        _fail(f"the migration stopped; the alias {es.index_name} still points at the old version: {exc}", 1)
    typer.echo(f"{es.index_name} now serves {report.new}: {report.copied} post(s) copied, {report.caught_up} "
               f"caught up, {report.statuses} alert status(es)"
               + (f", {replayed} spooled write(s) replayed first" if replayed else ""))
    if report.old and not delete_old:
        typer.echo(f"the old version {report.old} is kept for a rollback; delete it when satisfied")


@index_app.command("status")
def status() -> None:
    """The alias, the version it serves, its document count and the local spool."""
    from app.cli import _services
    from search.index import IndexUnavailable

    services = _services()
    es = _elastic(services)
    try:
        count = es.count()
    except IndexUnavailable as exc:
        _fail(f"Elasticsearch is unavailable: {exc}", 3)
    typer.echo(f"{es.index_name} -> {es.current} (version {es.version}), {count} document(s); "
               f"{services.index.pending()} write(s) waiting in the spool {services.index.spool_path}")


def reindex_full(settings: Settings) -> None:
    from app.bootstrap import build_index, build_services
    from patrol.index_identity import rebuild_index
    from search.index import IndexUnavailable

    services = build_services(settings)
    store = services.store
    try:
        # Opened without the identity check: a missing file becomes a new one, a foreign one is replaced.
        index = build_index(settings)
        try:
            n = rebuild_index(store, index)
        finally:
            index.close()
    except IndexUnavailable as exc:
        typer.echo(f"patrol: the index cannot be rebuilt, nothing changed in it: {exc}", err=True)
        raise typer.Exit(3)
    store.record_event("system", "index.rebuilt", "index", {"posts": n, "store_id": store.store_id()},
                       datetime.now(timezone.utc))
    typer.echo(f"rebuilt the index from the store: {n} post(s), stamped {store.store_id()}")
