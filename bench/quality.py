"""Review-mined quality against the generator's hidden defects; last line RESULT {json}.

Generates a shop dense in reviews (few products, many buyers, a month of days), curates it, mines quality
with the configured themes and thresholds (no graph write), and reports the precision and recall of the
flagged products (any HAS_ISSUE) against the truly defective ones, plus review-level theme precision and
recall. The thresholds in conf/base.yaml were chosen on seed 42; the default seed here (7) is held out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from shopgraph import quality as QM
from shopgraph.generate import generate_shop
from shopgraph.ner.io import read_curated_products
from shopgraph.settings import REPO_ROOT, load_settings

sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
from graph_inputs import curate_landing  # noqa: E402  (the clean-shop curation the graph tests use)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=600)
    parser.add_argument("--users", type=int, default=6000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings()
    workdir = Path(tempfile.mkdtemp(prefix="shopgraph-quality-bench-"))
    lake = str(workdir / "lake")
    try:
        started = time.perf_counter()
        generate_shop(
            lake,
            products=args.products,
            users=args.users,
            days=args.days,
            start_date=date(2026, 1, 1),
            seed=args.seed,
        )
        curate_landing(lake)
        config = QM.settings_config(settings)
        reviews = QM.read_reviews(lake)
        result = QM.mine_quality(
            read_curated_products(lake),
            reviews,
            QM.read_themes(settings.quality.themes),
            QM.encoder_embedder(settings),
            config,
        )
        truth = QM.read_defect_truth(lake)
        review_truth = QM.read_review_truth(lake)
        assert truth is not None and review_truth is not None
        defects = QM.defect_evaluation(result, truth, config.min_reviews)
        themes = QM.theme_accuracy(result, review_truth)
        summary = QM.summary(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(summary), flush=True)
    result_json = {
        "flagged_precision": round(defects["reviewed"]["precision"], 4),
        "flagged_recall": round(defects["reviewed"]["recall"], 4),
        "flagged_recall_all_products": round(defects["all_products"]["recall"], 4),
        "flagged": int(defects["reviewed"]["flagged"]),
        "defective_with_enough_reviews": int(defects["reviewed"]["defective"]),
        "defective_all": int(defects["all_products"]["defective"]),
        "theme_precision": round(themes["precision"], 4),
        "theme_recall": round(themes["recall"], 4),
        "reviews": reviews.height,
        "seed": args.seed,
        "thresholds": {
            "similarity": config.similarity_threshold,
            "min_share": config.min_share,
            "min_reviews": config.min_reviews,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    print("RESULT " + json.dumps(result_json))


if __name__ == "__main__":
    main()
