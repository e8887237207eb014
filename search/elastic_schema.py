"""What the Elasticsearch index looks like: settings, mappings, the index template, and the names
of the alias and of the versioned indexes behind it. Pure values: no client here.

Layout: the name Patrol is configured with (`patrol-posts`) is an ALIAS, never an index. The
documents live in `patrol-posts-v1`, `patrol-posts-v2`, …; an index template on `patrol-posts-v*`
gives each new version its settings and mappings, so a version created by any process (or by
hand) is right. `patrol index migrate` fills the next version from the workflow database and
moves the alias in one atomic `_aliases` call: readers see the old version until the new one is
complete, and an interrupted migration leaves the alias where it was (the half-filled version is
deleted by the next run). `LAYOUT` is stamped in each index's `_meta`, so a process of another
layout refuses the alias instead of writing documents it would misread.
"""
from __future__ import annotations

import re

LAYOUT = 2  # 1: the unaliased index of before; 2: alias over versioned indexes, template

TOKEN_FIELDS = ("title_tokens", "body_tokens", "title_parts", "body_parts", "norm_tokens", "norm_parts")

SETTINGS = {
    "analysis": {"analyzer": {"patrol_tokens": {"type": "custom", "tokenizer": "whitespace"}}},
}
MAPPINGS = {
    "dynamic": "strict",
    "_meta": {"patrol_layout": LAYOUT},
    # The token fields are derived; keeping them out of _source halves the stored size.
    "_source": {"excludes": list(TOKEN_FIELDS)},
    "properties": {
        "id": {"type": "keyword"},
        "source": {"type": "keyword"},
        "url": {"type": "keyword", "index": False, "doc_values": False},
        "title": {"type": "text", "index": False},
        "text": {"type": "text", "index": False},
        "author": {"type": "keyword"},
        "published_at": {"type": "keyword", "index": False, "doc_values": False},  # ISO, offset kept
        "published_us": {"type": "long"},
        # The same instant as a date, for date_histogram (whose buckets need a date field).
        "published_day": {"type": "date", "format": "epoch_millis"},
        "fetched_at": {"type": "keyword", "index": False, "doc_values": False},
        "primary": {"type": "keyword"},
        "categories": {"type": "keyword"},
        "status": {"type": "keyword"},
        **{name: {"type": "text", "analyzer": "patrol_tokens"} for name in TOKEN_FIELDS},
        "normalised": {"type": "text", "index": False},
        # (norm_start, norm_end, orig_start, orig_end) quadruples, flattened: stored for highlights only.
        "normalised_spans": {"type": "integer", "index": False, "doc_values": False},
    },
}


def template_name(alias: str) -> str:
    return f"{alias}-template"


def version_name(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def version_of(alias: str, index: str) -> int | None:
    """The version number of a concrete index behind `alias`, None for a name not of that form."""
    m = re.fullmatch(re.escape(alias) + r"-v(\d+)", index)
    return int(m.group(1)) if m else None


def index_template(alias: str, *, shards: int = 1, replicas: int = 1) -> dict:
    """The body of `PUT _index_template/<alias>-template` (composable template, ES 7.8+)."""
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": 200,
        "template": {
            "settings": {"number_of_shards": shards, "number_of_replicas": replicas, **SETTINGS},
            "mappings": MAPPINGS,
        },
        "_meta": {"patrol_layout": LAYOUT, "description": "Patrol post index; see search/elastic_schema.py"},
    }


def move_alias_actions(alias: str, old: str | None, new: str) -> list[dict]:
    """The one `_aliases` call that points `alias` at `new`: atomic, readers never see no index."""
    actions: list[dict] = []
    if old is not None:
        actions.append({"remove": {"index": old, "alias": alias}})
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    return actions
