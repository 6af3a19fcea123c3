"""Peak memory and time of a large shop generation, run in a subprocess; the last line is RESULT {json}."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys
from datetime import date
from shopgraph.generate import generate_shop

args = json.loads(sys.argv[1])

def report(step, done, total):
    print(f"{step} {done}/{total}", file=sys.stderr, flush=True)

summary = generate_shop(
    args["lake"], products=args["products"], users=args["users"], days=args["days"],
    start_date=date.fromisoformat(args["start_date"]), seed=args["seed"], dirty=args["dirty"],
    progress=report,
)
print(json.dumps({"rows": summary.rows, "files": summary.files, "faults": summary.faults}))
"""


def _folder_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start-date", default="2026-01-01")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dirty", action="store_true")
    parser.add_argument("--lake", help="where to write (default: a temporary folder, removed afterwards)")
    args = parser.parse_args()

    lake = Path(args.lake) if args.lake else Path(tempfile.mkdtemp(prefix="shopgraph-bench-")) / "lake"
    params = {
        "lake": str(lake),
        "products": args.products,
        "users": args.users,
        "days": args.days,
        "start_date": args.start_date,
        "seed": args.seed,
        "dirty": args.dirty,
    }
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(params)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    seconds = time.monotonic() - started
    if child.returncode != 0:
        sys.exit(f"generation failed with exit code {child.returncode}")
    # Linux reports ru_maxrss in KiB: the peak resident set of the largest finished child.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    written = json.loads(child.stdout.strip().splitlines()[-1])
    result = {
        **{k: v for k, v in params.items() if k != "lake"},
        "rows": written["rows"],
        "files": written["files"],
        "faults": written["faults"],
        "lake_mb": round(_folder_bytes(lake) / 2**20, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "seconds": round(seconds, 1),
    }
    if not args.lake:
        shutil.rmtree(lake.parent, ignore_errors=True)
    print("RESULT " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
