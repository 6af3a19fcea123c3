"""Generate (once) the dirty shop the ingestion benchmark reads, into a cache folder; prints its path."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

# Measured on the generator: about 1.58 events per user and day.
EVENTS_PER_USER_DAY = 1.58
START = date(2026, 1, 1)


def cache_lake(cache: Path, events: int, days: int, seed: int) -> Path:
    """The lake folder of one benchmark size inside the cache folder."""
    return cache / f"ingest-e{events}-d{days}-s{seed}-dirty" / "lake"


def ensure_shop(
    cache: Path, events: int, days: int, seed: int, products: int
) -> tuple[Path, dict[str, object]]:
    """Generate the shop unless the cache holds it already (marked by generated.json); returns lake, info."""
    from shopgraph.generate import generate_shop

    lake = cache_lake(cache, events, days, seed)
    marker = lake.parent / "generated.json"
    if marker.exists():
        return lake, json.loads(marker.read_text())
    users = max(1, round(events / (days * EVENTS_PER_USER_DAY)))
    started = time.perf_counter()
    summary = generate_shop(
        str(lake), products=products, users=users, days=days, start_date=START, seed=seed, dirty=True
    )
    info = {
        "users": users,
        "products": products,
        "rows": summary.rows,
        "faults": summary.faults,
        "generate_s": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(info, indent=2))
    return lake, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, default=Path("data/bench"))
    args = parser.parse_args()
    lake, info = ensure_shop(args.cache, args.events, args.days, args.seed, args.products)
    print(lake, json.dumps(info), file=sys.stdout)


if __name__ == "__main__":
    main()
