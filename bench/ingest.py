"""Ingestion benchmark: the whole stage on a dirty shop with ~10M events against plain pandas; RESULT {json}.

The shop is generated once into a cache folder (bench/ingest_data.py). The polars stage (rules, GX, writes,
manifests) runs first over every table and day, one partition at a time; then a plain pandas
implementation of the same event rules runs in the same process on the same event files. speedup_vs_pandas
compares the two on the events partitions (which are >90% of the rows); rows_per_s is over every table.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_data import START, ensure_shop  # noqa: E402
from shopgraph.adapters.expectations import GxSession  # noqa: E402
from shopgraph.adapters.lake import landing_partition, partition_files, read_bytes  # noqa: E402
from shopgraph.ingestion import layout  # noqa: E402
from shopgraph.ingestion.pipeline import (  # noqa: E402
    IngestError,
    IngestOptions,
    failed_result,
    ingest_partition,
    landing_tables,
)
from shopgraph.schemas import landing as L  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_HTML_BLOCKS = r"(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>"
_TAGS = r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
_CONTROL = r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0e-\x1f\x7f-\x9f]"


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ plain pandas, same event rules


def _pandas_text(values: pd.Series) -> pd.Series:
    text = values.str.replace(_HTML_BLOCKS, " ", regex=True).str.replace(_TAGS, "", regex=True)
    text = text.str.replace("&amp;", "&", regex=False).str.replace(_CONTROL, "", regex=True)
    text = text.map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v)
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    return text.where(text != "", None)


def pandas_events_partition(
    files: list[str], day: date, known_users: set[str], known_products: set[str]
) -> dict:
    """The event rules in pandas: read, normalise query, checks, orphans, dedup, split, write to memory."""
    frames = []
    for path in files:
        try:
            frame = pd.read_parquet(io.BytesIO(read_bytes(path)))
        except Exception:  # the corrupt file
            continue
        frame["source_file"] = path
        frame["source_row"] = np.arange(len(frame))
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    rows_in = len(df)
    df["query"] = _pandas_text(df["query"])
    start = pd.Timestamp(day.isoformat(), tz="UTC")
    end = start + pd.Timedelta(days=1)
    reasons = pd.Series([""] * rows_in, index=df.index, dtype=object)

    def flag(mask: pd.Series, code: str) -> None:
        mask = mask.fillna(False).astype(bool)
        reasons.loc[mask] = reasons.loc[mask] + code + ";"

    flag(df["event_id"].isna(), "null_key")
    for column in ("user_id", "product_id", "event_type", "ts", "session_id"):
        flag(df[column].isna(), "null_value")
    flag((df["rating"] < 1) | (df["rating"] > 5), "out_of_range")
    flag(df["price"] <= 0, "out_of_range")
    valid_type = df["event_type"].isin(L.EVENT_TYPES)
    flag(df["event_type"].notna() & ~valid_type, "unknown_category")
    flag(valid_type & (df["rating"].notna() != (df["event_type"] == "rating")), "inconsistent_fields")
    flag(valid_type & (df["price"].notna() != (df["event_type"] == "purchase")), "inconsistent_fields")
    flag((df["ts"] > pd.Timestamp(NOW)) | (df["ts"] >= end), "future_timestamp")
    flag(df["ts"] < start, "outside_partition")
    flag(df["user_id"].notna() & ~df["user_id"].isin(known_users), "orphan_reference")
    flag(df["product_id"].notna() & ~df["product_id"].isin(known_products), "orphan_reference")
    clean = reasons == ""
    duplicate = df["event_id"].notna() & df.assign(_clean=~clean).sort_values(
        "_clean", kind="stable"
    ).duplicated("event_id").reindex(df.index)
    flag(duplicate, "duplicate_key")
    bad = reasons != ""
    curated = df.loc[~bad, list(L.EVENTS_SCHEMA)]
    quarantine = df.loc[bad].assign(reason=reasons[bad].str.rstrip(";"))
    for frame in (curated, quarantine):
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink, compression="zstd")
    assert rows_in == len(curated) + len(quarantine)
    return {"rows_in": rows_in, "curated": len(curated), "quarantined": len(quarantine)}


def known_pandas(lake: str, table: str, key: str, until: date) -> set[str]:
    keys: set[str] = set()
    folder = Path(layout.curated_changes(lake, table))
    for part in sorted(folder.glob("dt=*/*.parquet")):
        if date.fromisoformat(part.parent.name[3:]) <= until:
            keys.update(pd.read_parquet(part, columns=[key])[key].dropna().tolist())
    return keys


# ------------------------------------------------------------------ the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, default=Path("data/bench"))
    parser.add_argument("--no-data-docs", action="store_true", help="validate without writing Data Docs")
    args = parser.parse_args()

    lake_path, info = ensure_shop(args.cache, args.events, args.days, args.seed, args.products)
    lake = str(lake_path.resolve())
    days = [START + timedelta(days=offset) for offset in range(args.days)]
    docs = None if args.no_data_docs else str(lake_path.parent / "docs" / "gx")
    options = IngestOptions(docs_dir=docs)

    started = time.perf_counter()
    import great_expectations  # noqa: F401  (a worker pays this once per process)

    gx_import_s = time.perf_counter() - started
    rss_before = rss_mb()
    rss_after_day: list[float] = []
    stage_started = time.perf_counter()
    results = []
    tables = landing_tables(lake)
    # Day by day per table, as the flow does, sampling RSS after each events day to see it stay flat.
    session = GxSession(docs)
    for table in tables:
        for day in days:
            try:
                results.append(
                    ingest_partition(lake, table, day, now=NOW, options=options, force=True, session=session)
                )
            except IngestError as exc:
                results.append(failed_result(table, day, exc))
            if table == L.EVENTS:
                rss_after_day.append(round(rss_mb(), 1))
    session.build_docs()
    stage_s = time.perf_counter() - stage_started
    polars_peak = peak_rss_mb()

    ok = [r for r in results if r["status"] not in ("absent",)]
    rows_in = sum(r["rows"].get("in", 0) for r in ok)
    gx_s = sum(r.get("durations_s", {}).get("gx", 0.0) for r in ok) + session.docs_seconds
    events = [r for r in ok if r["table"] == L.EVENTS]
    events_rows = sum(r["rows"].get("in", 0) for r in events)
    events_s = sum(r.get("durations_s", {}).get("total", 0.0) for r in events)
    events_rules_s = sum(
        sum(r.get("durations_s", {}).get(k, 0.0) for k in ("read", "rules", "write")) for r in events
    )

    pandas_started = time.perf_counter()
    pandas_rows = 0
    for day in days:
        files = partition_files(landing_partition(lake, L.EVENTS, day))
        users = known_pandas(lake, L.USERS, L.USER_ID, day)
        products = known_pandas(lake, L.PRODUCTS, L.PRODUCT_ID, day)
        pandas_rows += pandas_events_partition(files, day, users, products)["rows_in"]
    pandas_s = time.perf_counter() - pandas_started
    if pandas_rows != events_rows:
        sys.exit(f"pandas read {pandas_rows} event rows, polars {events_rows}")

    failed = [r for r in results if r["status"] == "failed"]
    print(
        json.dumps(
            {
                "shop": info,
                "statuses": {r["table"] + " " + r["dt"]: r["status"] for r in results},
                "failed": [r.get("error") for r in failed],
                "rss_mb_after_each_events_day": rss_after_day,
                "rss_mb_before_stage": round(rss_before, 1),
            },
            indent=1,
        ),
        file=sys.stderr,
    )
    result = {
        "events": events_rows,
        "rows_in": rows_in,
        "stage_s": round(stage_s, 1),
        "rows_per_s": round(rows_in / stage_s),
        "gx_s": round(gx_s, 1),
        "gx_share": round(gx_s / stage_s, 3),
        "gx_import_s": round(gx_import_s, 1),
        "events_polars_s": round(events_s, 1),
        "events_polars_rules_io_s": round(events_rules_s, 1),
        "events_pandas_s": round(pandas_s, 1),
        "speedup_vs_pandas": round(pandas_s / events_s, 2),
        "peak_rss_mb": round(polars_peak, 1),
        "peak_rss_mb_with_pandas": round(peak_rss_mb(), 1),
        "data_docs": docs is not None,
        "data_docs_build_s": round(session.docs_seconds, 1),
        "partitions": len(ok),
        "failed_partitions": len(failed),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
