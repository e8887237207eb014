"""`patrol reindex --full`: the search index rebuilt from the workflow database and stamped with
its identity, whatever state the old one is in (missing, foreign, damaged)."""
from __future__ import annotations

from datetime import datetime, timezone

import typer

from patrol.settings import Settings


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
