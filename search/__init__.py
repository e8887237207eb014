"""The post index: embedded SQLite FTS5 by default, Elasticsearch in production.
Imports nothing of Patrol's other packages; takes and returns plain values."""
