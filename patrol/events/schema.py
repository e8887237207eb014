"""The event views' tables, on the workflow database's metadata (migration 0008 creates them;
patrol/store/schema.py imports this module so the two are compared as one)."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from patrol.store.schema import JSONType, UTCDateTime, metadata

opinion_events = Table(
    "opinion_events", metadata,
    Column("id", String(32), primary_key=True),
    Column("title", Text, nullable=False),
    Column("renamed", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("merged_into", String(32), nullable=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sources", JSONType, nullable=False),
    Column("terms", JSONType, nullable=False),
    Column("categories", JSONType, nullable=False),
    Column("places", JSONType, nullable=False),
    Column("place_code", String(6), nullable=False),     # the event's place, "" when unknown
    Column("sentiment_sum", Float, nullable=False),
    Column("negative", Integer, nullable=False),
    Column("seeds", JSONType, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Splits and merges it went through: [{at, by, action, other, ...}] (null: none recorded).
    Column("trace", JSONType, nullable=True),
    Index("ix_opinion_events_status_last_seen", "status", "last_seen"),
    Index("ix_opinion_events_place", "place_code"),
)

# One row per clustered post: which event it is in, and what the event's counts are made of.
opinion_event_posts = Table(
    "opinion_event_posts", metadata,
    Column("post_id", String(64), primary_key=True),
    Column("event_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("source", String(200), nullable=False),
    Column("sentiment", Float, nullable=False),
    Column("negative", Boolean, nullable=False),
    Column("categories", JSONType, nullable=False),
    Column("place_code", String(6), nullable=False),
    Column("words", JSONType, nullable=False),
    Index("ix_opinion_event_posts_event_at", "event_id", "at"),
)

# The MinHash band index of the events' seed posts: band key -> event.
opinion_event_bands = Table(
    "opinion_event_bands", metadata,
    Column("band_key", String(16), primary_key=True),
    Column("event_id", String(32), primary_key=True),
)

# Posts per hour per key (kind: term | category | place), the bursts' history.
opinion_counts = Table(
    "opinion_counts", metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    Column("n", Integer, nullable=False),
)

# One row per burst window: the unique key is what keeps a burst to one alert per window.
opinion_bursts = Table(
    "opinion_bursts", metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("window_start", UTCDateTime, primary_key=True),
    Column("alert_id", String(64), nullable=False),
    Column("current", Integer, nullable=False),
    Column("expected", Float, nullable=False),
    Column("label", Text, nullable=False),
)

watchlists = Table(
    "watchlists", metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("terms", JSONType, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("min_count", Integer, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Words' document frequencies over the clustered posts (patrol/events/rarity.py); the row of the
# empty word "" holds the number of posts counted.
opinion_word_df = Table(
    "opinion_word_df", metadata,
    Column("word", String(64), primary_key=True),
    Column("df", Integer, nullable=False),
)
