"""One typed Settings object. Nothing else in Patrol reads os.environ.

Environment variables use the prefix PATROL_; nested groups use a double underscore,
e.g. PATROL_CRAWL__USER_AGENT, PATROL_API__PORT. A `.env` file in the working directory is read too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CrawlSettings(BaseModel):
    # Identify the operator: sites being crawled deserve to know who to contact.
    user_agent: str = "PatrolBot/0.1 (+public-post monitoring; contact: operator@localhost)"
    obey_robots: bool = True
    concurrent_requests: int = 16
    concurrent_per_domain: int = 4
    download_delay: float = 0.0
    autothrottle: bool = True
    download_timeout: float = 20.0
    max_page_bytes: int = 8 * 1024 * 1024
    retry_times: int = 3
    # Passes that fail or come back empty this many times in a row raise an operations alert.
    health_alert_after: int = 3
    # Posts handed to the ingest step at once: the analyzer and the index both work per batch.
    ingest_batch_size: int = 256


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs session cookies and bearer tokens. Generated and stored under PATROL_HOME when unset.
    secret_key: str | None = None
    token_ttl_minutes: int = 12 * 60
    # The largest request body read (PATROL_API__MAX_BODY_BYTES); larger ones are answered 413.
    max_body_bytes: int = 1024 * 1024
    # How often the API process checks for life-risk alerts gone overdue (api/deadline_watch.py); 0: never.
    deadline_check_seconds: float = 15.0


class AuditSettings(BaseModel):
    # The audit chain's HMAC key (PATROL_AUDIT__KEY), from a secret store; unset: PATROL_HOME/audit.key,
    # created on first use with mode 0600 (patrol/audit_key.py).
    key: SecretStr | None = None
    # The append-only file of signed checkpoints (PATROL_AUDIT__CHECKPOINT_FILE); unset:
    # PATROL_HOME/audit-checkpoints.jsonl. Keep it on other storage than the database.
    checkpoint_file: Path | None = None
    # How often `patrol serve` writes a checkpoint (0: never; `patrol audit checkpoint` still does).
    checkpoint_minutes: float = Field(default=60.0, ge=0)


class RetentionSettings(BaseModel):
    # Posts that raised no alert are purged this many days after they were first seen (0: kept forever).
    posts_without_alert_days: int = Field(default=180, ge=0)
    # Fetched pages kept as evidence go this many days after they were fetched, unless an active
    # alert still needs them (patrol.evidence.purge_pages; 0: kept forever).
    pages_days: int = Field(default=180, ge=0)
    # How often `patrol serve` runs the retention steps (0: never; `patrol retention run` still does).
    interval_hours: float = Field(default=24.0, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PATROL_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    home: Path = Path("./var")
    database_url: str | None = None
    elasticsearch_url: str | None = None
    elasticsearch_index: str = "patrol-posts"
    # The embedded index when no Elasticsearch is set (PATROL_INDEX_ENGINE): "tantivy" (the default,
    # fast at a million posts) or "sqlite" (the FTS5 index of earlier versions); search/README.md.
    index_engine: Literal["tantivy", "sqlite"] = "tantivy"
    redis_url: str | None = None
    sources: Path = Path("sources.yaml")
    rules: Path | None = None
    # None: the model that ships in nlp/data/model/ (PATROL_MODEL_PATH for one trained elsewhere).
    model_path: Path | None = None
    # The model's sentence-encoder stage (PATROL_MODEL_ENCODER). Off, a model trained with one
    # scores with its n-gram side alone, faster and weaker, and its model_version ends in
    # "+fast-only" so every output says so.
    model_encoder: bool = True
    lexicon_dir: Path | None = None
    # `patrol classify` worker processes for a large input (PATROL_CLASSIFY_WORKERS); unset: one per core.
    classify_workers: int | None = Field(default=None, ge=1)
    # Seconds between the one-line progress summaries of long commands off a terminal (app/progress.py).
    progress_interval: float = Field(default=10.0, ge=0)

    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'patrol.db').resolve()}"

    @property
    def index_path(self) -> Path:
        return self.home / ("index.tantivy" if self.index_engine == "tantivy" else "index.sqlite")

    @property
    def checkpoint_path(self) -> Path:
        return self.audit.checkpoint_file or self.home / "audit-checkpoints.jsonl"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home
