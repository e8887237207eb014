"""One typed Settings object. Nothing else in Patrol reads os.environ.

Environment variables use the prefix PATROL_; nested groups use a double underscore,
e.g. PATROL_CRAWL__USER_AGENT, PATROL_API__PORT. A `.env` file in the working directory is read too.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
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
    # How often the API process checks for life-risk alerts gone overdue (api/deadline_watch.py); 0: never.
    deadline_check_seconds: float = 15.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PATROL_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    home: Path = Path("./var")
    database_url: str | None = None
    elasticsearch_url: str | None = None
    elasticsearch_index: str = "patrol-posts"
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

    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'patrol.db').resolve()}"

    @property
    def index_path(self) -> Path:
        return self.home / "index.sqlite"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home
