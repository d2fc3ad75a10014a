"""Settings from the environment (prefix ``BATON_``), cached once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ADMIN_TOKEN_MIN = 32


DEFAULT_VECTOR_DIM = 256  # the local embedder's (app/embeddings/local.py DIM)


class Settings(BaseSettings):
    """Every knob Baton reads; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="BATON_", extra="ignore")

    graph_uri: str = Field(
        default="embedded://",
        description=(
            "embedded://<dir> (embedded:// alone: <data_dir>/graph) | falkordb://host:port | "
            "falkordb+unix:///path/to/sock | "
            "neo4j://… | bolt://…"
        ),
    )
    graph_name: str = Field(default="baton", description="FalkorDB graph key / Neo4j database")
    neo4j_user: str = "neo4j"
    neo4j_password: str = "baton-dev-password"
    data_dir: Path = Field(default=Path(".baton"), description="Where local state lives")
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = Field(
        default=None,
        description="Fixed admin token (else minted): bt_ + at least 29 more characters; "
        "empty means unset",
    )
    pool_size: int = Field(default=32, description="Graph connections per app process")
    graph_timeout_ms: int = Field(
        default=5_000,
        ge=100,
        description="Server-side timeout per statement (FalkorDB TIMEOUT_DEFAULT/TIMEOUT_MAX "
        "and per-query TIMEOUT; Neo4j transaction timeout); the client gives up 1 s later",
    )
    graph_fsync: Literal["always", "everysec"] = Field(
        default="always",
        description="Embedded FalkorDB appendfsync: `always` makes every acknowledged write "
        "durable before it is answered; `everysec` is faster and can lose up to ~2 s of "
        "acknowledged writes in a crash (docs/reliability.md)",
    )
    graph_query_memory_mb: int = Field(
        default=512, ge=16, description="Embedded FalkorDB QUERY_MEM_CAPACITY per statement"
    )
    graph_heavy_concurrency: int = Field(
        default=1,
        ge=1,
        description="Heavy reads (lineage, whyDid, event pages, replay) running at once",
    )
    # Coordination timings (milliseconds).
    lease_ms: int = 30_000
    heartbeat_timeout_ms: int = 30_000
    route_interval_ms: int = 200
    route_batch: int = 2_000
    retry_base_ms: int = Field(default=1_000, description="First retry delay (doubles, jittered)")
    retry_max_ms: int = Field(default=60_000, description="Longest retry delay")
    event_poll_ms: int = 25
    tracing: bool = Field(default=True, description="Write Decision spans on the hot paths")
    workflow_interval_ms: int = Field(
        default=250, description="How often runs and triggers advance"
    )
    inbound_webhook_secrets: dict[str, str] = Field(
        default_factory=dict,
        description='POST /webhooks/{source} shared secrets, JSON: {"ci": "s3cret"}',
    )
    # Outbound webhooks (agents that are HTTP services).
    webhook_allow_hosts: list[str] = Field(
        default_factory=list,
        description='Hosts and CIDRs exempt from the egress policy, JSON: ["127.0.0.1"]',
    )
    webhook_timeout_ms: int = Field(default=5_000, ge=100, description="Per delivery, in all")
    webhook_per_endpoint: int = Field(default=4, ge=1, description="Deliveries in flight")
    # API limits.
    max_body_bytes: int = 1_000_000
    max_query_depth: int = 12
    max_query_tokens: int = 4_000
    max_page_size: int = 500
    max_query_cost: int = Field(
        default=20_000,
        description="GraphQL cost budget: fields x first/page size x aliases, nested lists "
        "multiply",
    )
    max_json_depth: int = Field(default=64, description="Deepest JSON nesting in a request")
    max_derived_from: int = Field(default=32, description="derivedFrom ids per assertFact")
    lineage_budget: int = Field(default=250, description="Nodes/edges one lineage walk visits")
    rate_limit_per_s: float = Field(
        default=2_000.0, description="Operations/s per principal (HTTP and each WS operation)"
    )
    rate_limit_burst: int = 4_000
    ws_max_sockets: int = Field(default=16, description="Open WebSockets per principal")
    ws_max_subscriptions: int = Field(
        default=64, description="Live subscriptions per principal (all sockets)"
    )
    replay_page: int = Field(
        default=200, ge=1, description="Events per page when a subscription replays the log"
    )
    replay_concurrency: int = Field(
        default=2, ge=1, description="Subscriptions reading replay pages at once (per process)"
    )
    scheduler: bool = Field(default=True, description="Run background jobs in this process")
    # Retention (README "Operating Baton"): 0 days keeps that kind for ever.
    retain_tasks_days: int = Field(
        default=30, ge=0, description="Finished tasks, their spans and decided proposals"
    )
    retain_facts_days: int = Field(default=30, ge=0, description="Superseded and expired facts")
    retain_events_days: int = Field(
        default=90, ge=0, description="Events, once written to the audit archive"
    )
    archive_dir: Path | None = Field(
        default=None, description="The audit archive (default: <data_dir>/archive)"
    )
    sources_interval_ms: int = Field(
        default=5_000, ge=100, description="How often the scheduler looks for org sources due"
    )
    retention_interval_s: int = Field(default=3_600, ge=1, description="How often pruning runs")
    retention_batch: int = Field(
        default=40, ge=1, le=10_000, description="Nodes one pruning statement deletes"
    )
    log_format: str = Field(default="text", pattern="^(text|json)$", description="text | json")
    log_level: str = "INFO"
    metrics_max_label_values: int = Field(
        default=50, ge=2, description="Distinct capability / team labels in /metrics"
    )
    # Embeddings for semantic search (docs/embeddings.md).
    embedder: Literal["local", "openai", "off"] = Field(
        default="local",
        description="local: the bundled WordLlama model on the CPU, offline | openai: an "
        "OpenAI-compatible /v1/embeddings server | off: no vectors, no semantic search",
    )
    embedding_url: str | None = Field(
        default=None,
        description="openai: base URL (https://host/v1) or the full …/v1/embeddings URL",
    )
    embedding_model: str | None = Field(default=None, description="openai: the model name")
    embedding_api_key: SecretStr | None = Field(
        default=None, description="openai: sent as 'Authorization: Bearer …'; empty: none"
    )
    embedding_dim: int | None = Field(
        default=None,
        ge=2,
        le=4096,
        description="Length of the fact/entity vectors; the graph's vector indexes are created "
        "with it (changing it needs the indexes dropped and the vectors redone). Default: the "
        "local model's 256; required with openai",
    )
    embedding_interval_ms: int = Field(
        default=2_000, ge=100, description="How often the scheduler embeds what is waiting"
    )
    embedding_batch: int = Field(
        default=64, ge=1, le=2_048, description="Texts per embedding request / job step"
    )
    embedding_timeout_ms: int = Field(
        default=30_000, ge=100, description="openai: per request (then retried twice)"
    )

    @property
    def archive_path(self) -> Path:
        """Where archived events go (``archive_dir``, else under the data dir)."""
        return self.archive_dir or self.data_dir / "archive"

    @property
    def vector_dim(self) -> int:
        """The dimension of the graph's vector indexes (the embedder's vectors)."""
        return self.embedding_dim or DEFAULT_VECTOR_DIM

    @model_validator(mode="after")
    def _openai_names_its_dim(self) -> Settings:
        """The vector indexes are created at start-up, before any embedding is asked for."""
        if self.embedder == "openai" and self.embedding_dim is None:
            raise ValueError(
                "BATON_EMBEDDER=openai needs BATON_EMBEDDING_DIM (the length of "
                "the model's vectors: the graph's vector indexes are made with it)"
            )
        return self

    @model_validator(mode="after")
    def _graph_in_data_dir(self) -> Settings:
        """The embedded graph lives in the data dir unless the URI names a place: moving
        BATON_DATA_DIR moves everything (it once left the graph behind in ./.baton)."""
        if self.graph_uri == "embedded://":
            self.graph_uri = f"embedded://{self.data_dir / 'graph'}"
        return self

    @field_validator("embedding_url", "embedding_model", "embedding_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        """docker-compose passes unset variables as empty strings."""
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("admin_token", mode="before")
    @classmethod
    def _admin_token(cls, v: object) -> object:
        """Empty (what docker-compose passes for an unset variable) means unset; a token an
        attacker could guess, or one that could never authenticate, is refused at start-up."""
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if isinstance(v, str):
            if len(v) < ADMIN_TOKEN_MIN:
                raise ValueError(
                    f"BATON_ADMIN_TOKEN is {len(v)} characters; it must be at least "
                    f"{ADMIN_TOKEN_MIN} (leave it unset to have one minted)"
                )
            if not v.startswith("bt_"):
                raise ValueError("BATON_ADMIN_TOKEN must start with 'bt_'")
        return v


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
