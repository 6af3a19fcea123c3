"""NER benchmark on the generated shop: entity F1 per type of the trained model against the weak-label
matcher, on the generator's truth spans of held-out products. bench/ner_real.py does the same on the real
Flipkart catalog.

Usage: .venv/bin/python bench/ner.py [--products 600] [--epochs 4] [--max-length 64]
Ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ner_common import KEYS, model_spans, parser, per_type_f1, print_scores, run  # noqa: E402
from shopgraph.adapters.lake import lake_path, landing_files, read_parquet  # noqa: E402
from shopgraph.domain.ner.examples import text_examples  # noqa: E402
from shopgraph.domain.ner.labels import weak_label_spans  # noqa: E402
from shopgraph.domain.ner.metrics import entity_scores, micro_f1  # noqa: E402
from shopgraph.domain.ner.split import SPLIT, TEST, assign_split  # noqa: E402
from shopgraph.generate import generate_shop  # noqa: E402
from shopgraph.ner.io import read_synonyms  # noqa: E402
from shopgraph.ner.train import TrainConfig, train_ner  # noqa: E402
from shopgraph.settings import load_settings  # noqa: E402


def synthetic(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    lake = str(workdir / "lake")
    generate_shop(lake, products=args.products, users=50, days=1, start_date=date(2026, 1, 1), seed=args.seed)
    landing = pl.concat([read_parquet(f) for f in landing_files(lake, "products")])
    products = landing.filter(~pl.col("is_deleted")).drop("is_deleted")
    truth = pl.concat(
        [
            pl.read_parquet(f)
            for f in sorted(Path(lake_path(lake, "truth", "product_entities")).glob("dt=*/*.parquet"))
        ]
    )
    synonyms = read_synonyms(load_settings().ner.synonyms)
    config = TrainConfig(
        experiment="bench-ner",
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
        batch_size=args.batch_size,
        val_share=0.1,
        test_share=0.2,
        seed=args.seed,
        patience=2,
    )
    uri = f"sqlite:///{workdir / 'mlflow-synthetic.db'}"
    started = time.perf_counter()
    result = train_ner(products, synonyms, config, uri)
    train_s = time.perf_counter() - started
    held_out = assign_split(products, config.val_share, config.test_share, config.split_salt).filter(
        pl.col(SPLIT) == TEST
    )
    gold = truth.join(held_out.select("product_id"), on="product_id", how="semi").select(KEYS)
    examples = text_examples(held_out)
    started = time.perf_counter()
    pred = model_spans(uri, result.version, examples, workdir, 64)
    infer_s = time.perf_counter() - started
    baseline = weak_label_spans(held_out, synonyms).select(KEYS)
    model_scores, matcher_scores = entity_scores(gold, pred), entity_scores(gold, baseline)
    print_scores(f"synthetic: trained model on {held_out.height} held-out products", model_scores)
    print_scores(
        "synthetic: weak-label matcher (catalog values + synonyms) on the same products", matcher_scores
    )
    return {
        "synthetic_products": products.height,
        "synthetic_test_products": held_out.height,
        "synthetic_epochs_run": result.epochs_run,
        "synthetic_train_s": round(train_s, 1),
        "synthetic_infer_texts_per_s": round(len(examples) / infer_s, 1),
        "synthetic_val_f1_weak": round(result.val_f1, 4),
        "synthetic_model_f1": round(micro_f1(model_scores), 4),
        "synthetic_matcher_f1": round(micro_f1(matcher_scores), 4),
        "synthetic_model_f1_by_type": per_type_f1(model_scores),
        "synthetic_matcher_f1_by_type": per_type_f1(matcher_scores),
    }


def main() -> None:
    options = parser(__doc__)
    options.add_argument("--products", type=int, default=600)
    options.add_argument("--epochs", type=int, default=4)
    options.add_argument("--max-length", type=int, default=64)
    run(options.parse_args(), "shopgraph-bench-ner-", synthetic)


if __name__ == "__main__":
    main()
