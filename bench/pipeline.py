"""Nightly pipeline: Prefect orchestration overhead and incremental vs full nightly; last line RESULT {json}.

Generates one shop (--products, --users, --days from 2026-01-01, seed 42) and, against a Neo4j this bench
starts (--home, its own ports; its database is WIPED) and a fresh local Prefect server as `shopgraph
services up` runs it (SQLite in --home, port --prefect-port), builds it from scratch several ways.
Every build starts from a fresh copy of the generated landing zone, an empty graph and a fresh MLflow
store (SQLite in a temporary folder):

1. direct: the library functions the flows' tasks call, with the same arguments and settings, in this
   process without Prefect: for each day but the last what the `daily` flow does (ingest, enrich, graph
   load; no export, as in a backfill), then what `nightly` does for the last day (daily, review
   quality, the training export, train the challenger, score the champion on its split, promotion, batch
   recommendations). Prefect artifacts and logs are the flows' own and have no direct counterpart.
2. flow: the same through `daily(...)` for each earlier day and `nightly(...)` for the last one.
   overhead_ratio = median flow time / median direct time; --repeats builds of each, ordered
   flow-direct, direct-flow, ... so that neither goes first every time and the last build is a flow.

With --warm-up-build (default) one untimed direct build runs first: the first build of a process was
about 60 s slower than later ones at 10k products, and that cost should not land on one path.
The NER champion enrich needs is registered untimed before each build (`train_from_lake` with 0 epochs on
a separately ingested copy of the shop, into that build's store), and before anything is timed the
encoder is loaded once, the graph schema applied once (a wipe keeps it) and one trivial flow run made.

3. incremental, on the state the last flow build left: a landing change set for the next day updating
   --change-share of the live products (new title and colour; no other table has that day), then
   `nightly` for that day (incremental_s), and another such day with `retrain=False`
   (incremental_no_retrain_s). The change sets only update existing products, so the full rebuild of
   the changed shop has the same rows as the flow build: full_s is the median flow build time and
   incremental_share = incremental_s / full_s, incremental_share_no_retrain = incremental_no_retrain_s /
   full_s (the denominator retrains in both; direct_stages_s shows what training takes of a build).
   A third change day then goes through the direct path, untimed in the ratios: its seconds per stage
   (incremental_direct_stages_s) show where an incremental night's time goes.

Goals: overhead_ratio at most 1.10 and incremental_share at most 0.10.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import torch
from prefect import flow
from prefect.settings import PREFECT_API_URL, temporary_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flows.daily import DailyParams, daily  # noqa: E402
from flows.nightly import NightlyParams, nightly  # noqa: E402
from kg_load import wipe  # noqa: E402
from shopgraph.adapters.encoder import EncoderSpec, load_encoder  # noqa: E402
from shopgraph.adapters.expectations import shared_session  # noqa: E402
from shopgraph.adapters.graph_export import export_from_settings, latest_snapshot  # noqa: E402
from shopgraph.adapters.graph_loader import (  # noqa: E402
    LoadOptions,
    days_to_load,
    load_days,
)
from shopgraph.adapters.graph_schema import apply_configured_schema, apply_schema  # noqa: E402
from shopgraph.adapters.graph_store import neo4j_driver  # noqa: E402
from shopgraph.adapters.lake import lake_path, landing_files, write_parquet  # noqa: E402
from shopgraph.domain.dates import partition_name  # noqa: E402
from shopgraph.embedding import update_product_embeddings, update_query_embeddings  # noqa: E402
from shopgraph.generate import generate_shop  # noqa: E402
from shopgraph.ingestion.pipeline import (  # noqa: E402
    OK,
    PARTIAL,
    IngestOptions,
    ingest_partition,
    ingest_range,
    landing_tables,
    raise_for_failures,
)
from shopgraph.ner.stage import extract_from_lake, train_from_lake  # noqa: E402
from shopgraph.ner.train import TrainConfig  # noqa: E402
from shopgraph.quality import has_reviews, run_quality  # noqa: E402
from shopgraph.recsys.batch import recommend_batch  # noqa: E402
from shopgraph.recsys.champion import champion_metrics, decide_and_apply  # noqa: E402
from shopgraph.recsys.stage import SHOP_DATASET, experiment_name, lake_dataset  # noqa: E402
from shopgraph.recsys.train import metric_name, train_models  # noqa: E402
from shopgraph.schemas import landing as L  # noqa: E402
from shopgraph.services.managed import start_service, stop_service  # noqa: E402
from shopgraph.services.neo4j_server import start_neo4j, stop_neo4j  # noqa: E402
from shopgraph.services.prefect_server import prefect_server_spec  # noqa: E402
from shopgraph.settings import Settings, load_settings  # noqa: E402

START = date(2026, 1, 1)
SEED = 42
GOAL_OVERHEAD = 1.10
GOAL_INCREMENTAL = 0.10


class Stages:
    """Seconds per named stage of one direct build, printed as each ends."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
        print(f"  {self.label} {name}: {elapsed:.1f}s", flush=True)


def direct_daily(settings: Settings, day: date, stages: Stages) -> bool:
    """What flows/daily.py does for one day without the export, through the tasks' library calls; False
    when skipped."""
    lake = settings.lake_root
    with stages.stage("ingest"):
        options = IngestOptions.from_settings(settings)
        session = shared_session(options.docs_dir)
        now = datetime.now(UTC)
        results = [
            ingest_partition(lake, table, day, now=now, options=options, force=False, session=session)
            for table in landing_tables(lake)
        ]
        session.build_docs()
        raise_for_failures(results)
    changed = [result for result in results if result.get("status") in (OK, PARTIAL)]
    if not changed and not days_to_load(lake, [day]):
        return False
    embedding = settings.embedding
    spec = EncoderSpec(model=embedding.model, device=embedding.device, max_length=embedding.max_length)
    with stages.stage("embed"):
        update_product_embeddings(lake, spec, batch_size=embedding.batch_size)
        update_query_embeddings(lake, spec, batch_size=embedding.batch_size)
    with stages.stage("ner"):
        extract_from_lake(settings, None, None, True)
    database = settings.neo4j.database
    with stages.stage("graph"), neo4j_driver(settings) as driver:
        apply_configured_schema(driver, settings, lake)
        load_days(driver, database, lake, [day], LoadOptions.from_settings(settings), force=False)
    return True


def direct_nightly(settings: Settings, day: date, stages: Stages) -> None:
    """What flows/nightly.py does for one day (retrain and recommend), through the same library calls."""
    processed = direct_daily(settings, day, stages=stages)
    if processed and has_reviews(settings.lake_root):
        with stages.stage("quality"):
            run_quality(settings, write=True)
    if processed:
        with stages.stage("export"):
            export_from_settings(settings)
    main = settings.recsys.main_model
    with stages.stage("train"):
        snapshot = latest_snapshot(settings.lake_root)
        data, digest = lake_dataset(settings, snapshot)
        report = train_models(
            data,
            [main],
            settings.recsys,
            tracking_uri=settings.mlflow.resolved_tracking_uri,
            experiment=experiment_name(settings, SHOP_DATASET),
            tags={"snapshot_digest": digest, "role": "nightly-challenger"},
            progress=print,
        )
        outcome = report.outcomes[main]
        metrics = {metric_name(key): value for key, value in outcome.metrics.items()}
    with stages.stage("champion"):
        data, _ = lake_dataset(settings, snapshot)
        found = champion_metrics(settings, data)
    has_champion = True
    if found is None or found[0] != outcome.version:
        with stages.stage("promotion"):
            decided = decide_and_apply(
                settings, outcome.version, metrics, found[1] if found else None, validation_passed=True
            )
        has_champion = decided.champion_after is not None
    if has_champion:
        with stages.stage("recommend"):
            recommend_batch(settings, day)


def direct_build(days: list[date]) -> tuple[float, dict[str, float]]:
    """The whole shop through library calls: daily for each earlier day, nightly for the last one."""
    settings = load_settings()
    stages = Stages("direct")
    started = time.perf_counter()
    for day in days[:-1]:
        direct_daily(settings, day, stages=stages)
    direct_nightly(settings, days[-1], stages)
    return time.perf_counter() - started, stages.seconds


def flow_build(days: list[date]) -> float:
    """The whole shop through the flows: `daily` for each earlier day, `nightly` for the last one."""
    started = time.perf_counter()
    for day in days[:-1]:
        lap = time.perf_counter()
        daily(DailyParams(date=day, export=False))
        print(f"  flow daily {day}: {time.perf_counter() - lap:.1f}s", flush=True)
    lap = time.perf_counter()
    nightly(NightlyParams(date=days[-1]))
    print(f"  flow nightly {days[-1]}: {time.perf_counter() - lap:.1f}s", flush=True)
    return time.perf_counter() - started


@flow(name="bench-warm-up")
def warm_up_flow() -> int:
    return 1


def change_products(lake: str, day: date, share: float, seed: int) -> int:
    """A landing products partition for `day` updating `share` of the live products (title, colour)."""
    history = pl.concat([pl.read_parquet(path) for path in landing_files(lake, L.PRODUCTS)])
    live = history.sort(L.UPDATED_AT).unique(L.PRODUCT_ID, keep="last").filter(~pl.col(L.IS_DELETED))
    stamp = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)
    changed = (
        live.sort(L.PRODUCT_ID)
        .sample(n=max(1, round(live.height * share)), seed=seed)
        .with_columns(
            (pl.col(L.TITLE) + " (new season)").alias(L.TITLE),
            pl.lit("chartreuse").alias(L.COLOUR),
            pl.lit(stamp).cast(L.TIMESTAMP).alias(L.UPDATED_AT),
        )
        .select(L.PRODUCTS_SCHEMA.names())
        .cast(dict(L.PRODUCTS_SCHEMA))
        .sort(L.PRODUCT_ID)
    )
    path = lake_path(lake, "landing", L.PRODUCTS, partition_name(day), "part-00000.parquet")
    write_parquet(changed, path)
    return changed.height


def use_build(workdir: Path, template: Path, name: str) -> str:
    """A fresh lake copied from the generated one and a fresh MLflow store, pointed to by the env."""
    lake = workdir / name / "lake"
    shutil.copytree(template, lake)
    os.environ["SHOPGRAPH_LAKE__ROOT"] = str(lake)
    os.environ["SHOPGRAPH_MLFLOW__TRACKING_URI"] = f"sqlite:///{workdir / name / 'mlflow.db'}"
    return str(lake)


def register_ner(ner_lake: str) -> None:
    """An untrained NER champion in the current store (enrich needs one); not part of any timing."""
    settings = load_settings()
    result = train_from_lake(settings, TrainConfig.from_settings(settings, epochs=0), ner_lake)
    if not result.promoted:
        raise RuntimeError(f"the NER model was not made champion: {result.reason}")


def configure(args: argparse.Namespace, home: str) -> None:
    """SHOPGRAPH_* variables every load_settings() of both paths reads: Neo4j, small-model knobs."""
    values = {
        "HOME": home,
        "NEO4J__URI": "",
        "NEO4J__MANAGED": "true",
        "NEO4J__BOLT_PORT": str(args.bolt_port),
        "NEO4J__HTTP_PORT": str(args.http_port),
        "PREFECT__PORT": str(args.prefect_port),
        "INGEST__DATA_DOCS": "true" if args.data_docs else "false",
        "EMBEDDING__DEVICE": args.device,
        "EMBEDDING__MAX_LENGTH": str(args.max_length),
        "NER__DEVICE": args.device,
        "NER__MAX_LENGTH": str(args.ner_max_length),
        "RECSYS__DEVICE": args.device,
        "RECSYS__EPOCHS": str(args.epochs),
        "RECSYS__DIM": str(args.dim),
    }
    for key, value in values.items():
        os.environ[f"SHOPGRAPH_{key}"] = value
    # The temporary API's telemetry heartbeat only logs SQLite lock errors here; flow runs do not use it.
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"


@contextmanager
def local_prefect_api(settings: Settings) -> Iterator[None]:
    """A fresh local Prefect server, started as `services up` starts it (its SQLite database in the bench
    home, emptied first), with this process's flow runs pointed at it; stopped afterwards."""
    spec = prefect_server_spec(settings)
    stop_service(spec)  # one that an interrupted run left behind
    shutil.rmtree(settings.home / "prefect", ignore_errors=True)
    start_service(spec)
    try:
        with temporary_settings({PREFECT_API_URL: settings.prefect.resolved_api_url}):
            yield
    finally:
        stop_service(spec)


def timed(label: str, run: Callable[[], float]) -> float:
    print(f"{label} ...", flush=True)
    seconds = run()
    print(f"{label}: {seconds:.1f}s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # 10k products: at 1k a build is about a minute, mostly fixed start-up costs (models, MLflow, Neo4j).
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--days", type=int, default=2, help="daily for all but the last, then nightly")
    parser.add_argument("--repeats", type=int, default=2, help="builds of each path (medians reported)")
    parser.add_argument("--epochs", type=int, default=10, help="recommender epochs")
    parser.add_argument("--dim", type=int, default=32, help="recommender embedding width")
    parser.add_argument("--max-length", type=int, default=64, help="encoder sub-tokens per text")
    parser.add_argument("--ner-max-length", type=int, default=32, help="NER sub-tokens per text")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda for encoder, NER, recommender")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--data-docs", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--change-share", type=float, default=0.01)
    parser.add_argument(
        "--warm-up-build",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one untimed direct build before the timed ones",
    )
    parser.add_argument(
        "--home", default=".local/bench-pipeline", help="Neo4j home (managed server, database wiped)"
    )
    parser.add_argument("--bolt-port", type=int, default=29887)
    parser.add_argument("--http-port", type=int, default=29674)
    parser.add_argument("--prefect-port", type=int, default=29420, help="the bench's own Prefect server")
    args = parser.parse_args()
    if args.days < 1 or args.repeats < 1:
        parser.error("--days and --repeats must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)

    home = str(Path(args.home).resolve())
    configure(args, home)
    settings = load_settings()
    status = start_neo4j(settings)
    started_here = status.detail != "already running"
    workdir = Path(tempfile.mkdtemp(prefix="shopgraph-pipeline-bench-"))
    try:
        result = run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if started_here:
            stop_neo4j(settings)
    print("RESULT " + json.dumps(result))


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    template = workdir / "generated"
    started = time.perf_counter()
    summary = generate_shop(
        str(template), products=args.products, users=args.users, days=args.days, start_date=START, seed=SEED
    )
    days = [START + timedelta(days=n) for n in range(args.days)]
    print(f"generated {summary.rows} in {time.perf_counter() - started:.0f}s", flush=True)

    # Untimed: curated products for the NER champion, the encoder and schema warmed, one flow run made.
    ner_lake = str(workdir / "ner-lake")
    shutil.copytree(template, ner_lake)
    ingest_range(ner_lake, [L.PRODUCTS], days, options=IngestOptions())
    settings = load_settings()
    embedding = settings.embedding
    encoder = load_encoder(EncoderSpec(embedding.model, embedding.device, embedding.max_length))
    dimension = int(encoder.dimension)
    del encoder
    with neo4j_driver(settings) as driver:
        wipe(driver)
        apply_schema(driver, settings.neo4j.database, dimension)

    direct_s: list[float] = []
    flow_s: list[float] = []
    stages: dict[str, float] = {}
    with local_prefect_api(settings):
        warm_up_flow()

        def fresh_build(name: str) -> None:
            """Empty graph, fresh lake and MLflow store, the NER champion registered (all untimed)."""
            with neo4j_driver(settings) as driver:
                wipe(driver)
            use_build(workdir, template, name)
            register_ner(ner_lake)

        if args.warm_up_build:
            # The first build of a process was ~60 s slower than later ones at 10k products (cold file
            # cache, first-time kernel set-up); untimed, so that cost does not land on one path.
            fresh_build("warm-up")
            warm_s, _ = direct_build(days)
            print(f"untimed warm-up build (direct): {warm_s:.1f}s", flush=True)
        order: list[str] = []
        for rep in range(args.repeats):
            order += ["direct", "flow"] if (args.repeats - 1 - rep) % 2 == 0 else ["flow", "direct"]
        for n, kind in enumerate(order):
            fresh_build(f"{kind}-{n}")
            if kind == "direct":
                seconds, stages = direct_build(days)
                print(f"direct build {n}: {seconds:.1f}s", flush=True)
                direct_s.append(seconds)
            else:
                flow_s.append(timed(f"flow build {n}", lambda: flow_build(days)))

        lake = os.environ["SHOPGRAPH_LAKE__ROOT"]  # the last build, a flow one
        first, second = days[-1] + timedelta(days=1), days[-1] + timedelta(days=2)
        changed = change_products(lake, first, args.change_share, seed=1)
        print(f"{changed} products changed on {first}", flush=True)
        incremental_s = timed(
            f"incremental nightly {first}",
            lambda: _seconds(lambda: nightly(NightlyParams(date=first))),
        )
        change_products(lake, second, args.change_share, seed=2)
        no_retrain_s = timed(
            f"incremental nightly {second} without retraining",
            lambda: _seconds(lambda: nightly(NightlyParams(date=second, retrain=False))),
        )
        # Where an incremental night's time goes: a third such day through the direct path, by stage.
        third = second + timedelta(days=1)
        change_products(lake, third, args.change_share, seed=3)
        incremental_stages = Stages("incremental direct")
        direct_nightly(load_settings(), third, incremental_stages)
    with neo4j_driver(settings) as driver:
        wipe(driver)

    direct, full = statistics.median(direct_s), statistics.median(flow_s)
    overhead = full / direct
    share = incremental_s / full
    return {
        "overhead_ratio": round(overhead, 3),
        "incremental_share": round(share, 4),
        "incremental_share_no_retrain": round(no_retrain_s / full, 4),
        "direct_s": round(direct, 1),
        "flow_s": round(full, 1),
        "incremental_s": round(incremental_s, 1),
        "incremental_no_retrain_s": round(no_retrain_s, 1),
        "full_s": round(full, 1),
        "direct_runs_s": [round(s, 1) for s in direct_s],
        "flow_runs_s": [round(s, 1) for s in flow_s],
        "direct_stages_s": {name: round(s, 1) for name, s in stages.items()},
        "incremental_direct_stages_s": {name: round(s, 1) for name, s in incremental_stages.seconds.items()},
        "goals_met": {
            "overhead_ratio": overhead <= GOAL_OVERHEAD,
            "incremental_share": share <= GOAL_INCREMENTAL,
        },
        "products": args.products,
        "users": args.users,
        "days": args.days,
        "rows": summary.rows,
        "changed_products": changed,
        "repeats": args.repeats,
        "recsys_epochs": args.epochs,
        "threads": torch.get_num_threads(),
    }


def _seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
