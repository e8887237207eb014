"""Public-opinion views: events (posts about one incident, across sources), their places and
growth, bursts per term, category and place, and the watch-lists that steer them.

model (the values), clustering (incremental MinHash clustering, pure), bursts (a window against
its own history, pure), watchlists (the lists and their checks, pure), updater (the ingest hook:
features of a batch, then one write), schema + store (the tables and their repository),
daily (the daily report's figures). Design notes: patrol/events/README.md.
"""
