"""The tables of officers' labels and of the daily recall sample (issue 15), on the one `metadata`.

Kept apart from schema.py so the label path has one home; schema.py imports this module at its end
so the tables exist wherever the schema is used (migrations, tests, the store).

post_labels: one row per label an officer gave a post, never rewritten. The latest row of a post is
its label; the older rows stay as the record of who said what, when, from which decision.
recall_samples: the posts drawn for a day's recall sample (抽检), one row per post; label_id is set
when an officer labels it, so the queue is the rows without one.
"""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from patrol.store.schema import UTCDateTime, metadata

post_labels = Table(
    "post_labels", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("post_id", String(64), ForeignKey("posts.id"), nullable=False),
    # The version the officer read: an edit after labelling does not silently move the label.
    Column("post_version", Integer, nullable=False),
    Column("category", String(40), nullable=False),
    # Where the label came from: alert (a decision), recall_sample (抽检), search (cold start).
    Column("origin", String(20), nullable=False),
    Column("alert_id", String(64), ForeignKey("alerts.id"), nullable=True),
    Column("decision", String(20), nullable=True),  # confirm | dismiss, for origin=alert
    Column("outcome", String(40), nullable=True),  # the disposition or the dismiss reason
    # The category the system had given (the alert's): precision per category compares the two.
    Column("predicted", String(40), nullable=True),
    Column("labelled_by", String(64), nullable=False),
    Column("labelled_at", UTCDateTime, nullable=False),
    Index("ix_post_labels_post_id", "post_id"),
    Index("ix_post_labels_labelled_at", "labelled_at"),
)

recall_samples = Table(
    "recall_samples", metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD (UTC) the sample is of
    Column("post_id", String(64), ForeignKey("posts.id"), primary_key=True),
    Column("source", String(200), nullable=False),
    Column("drawn_at", UTCDateTime, nullable=False),
    Column("label_id", Integer, ForeignKey("post_labels.id"), nullable=True),
    Index("ix_recall_samples_label_id", "label_id"),
)
