"""NER benchmark: entity F1 per type of the trained model against the weak-label matcher, on the generator's
truth spans (held-out products) and on the real Flipkart catalog (specification values found in the text).

Usage: .venv/bin/python bench/ner.py [--products 600] [--epochs 4] [--real-epochs 2] [--datasets PATH]
Ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import torch

from shopgraph.adapters.lake import lake_path, landing_files, read_parquet
from shopgraph.adapters.model_source import choose_device
from shopgraph.adapters.registry import download_model
from shopgraph.domain.ner.examples import text_examples
from shopgraph.domain.ner.labels import label_text, product_candidates, weak_label_spans
from shopgraph.domain.ner.metrics import F1, entity_scores, micro_f1
from shopgraph.domain.ner.split import SPLIT, TEST, assign_split
from shopgraph.generate import generate_shop
from shopgraph.ner.io import read_synonyms
from shopgraph.ner.model import load_model
from shopgraph.ner.train import TrainConfig, predicted_frame, train_ner
from shopgraph.settings import REPO_ROOT, load_settings

KEYS = ["product_id", "field", "start", "end", "type"]
# Flipkart specification keys (lower case) -> our entity types; the rest are ignored.
FLIPKART_TYPES = {
    "brand": "brand",
    "color": "colour",
    "material": "material",
    "fabric": "material",
    "outer material": "material",
    "base material": "material",
    "sole material": "material",
    "type": "category",
    "pattern": "pattern",
}


def per_type_f1(scores: pl.DataFrame) -> dict[str, float]:
    return {row["type"]: round(row[F1], 4) for row in scores.iter_rows(named=True)}


def print_scores(title: str, scores: pl.DataFrame) -> None:
    print(f"\n{title}")
    with pl.Config(tbl_rows=30, float_precision=3):
        print(scores)


def model_spans(
    tracking_uri: str, version: str, examples: list[Any], workdir: Path, batch_size: int
) -> pl.DataFrame:
    folder = download_model(f"models:/shopgraph-ner/{version}", tracking_uri, workdir / f"model-{version}")
    ner = load_model(folder, choose_device("auto"))
    return predicted_frame(ner, examples, batch_size)


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


def _specs(text: str | None) -> list[dict[str, str]]:
    if not text:
        return []
    try:
        pairs = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return []
    return (
        [
            {"key": str(p["key"]).strip().lower(), "value": str(p["value"]).strip()}
            for p in pairs
            if isinstance(p, dict) and p.get("key") and p.get("value")
        ]
        if isinstance(pairs, list)
        else []
    )


def flipkart_products(csv: Path) -> pl.DataFrame:
    """Flipkart rows as catalog-like products: uniq_id, name, description, specifications as attributes."""
    raw = pl.read_csv(csv, infer_schema_length=0)
    rows = [
        {"product_id": uid, "title": name, "description": desc, "attributes": _specs(spec)}
        for uid, name, desc, spec in raw.select(
            "uniq_id", "product_name", "description", "product_specifications"
        ).iter_rows()
    ]
    attrs = pl.List(pl.Struct({"key": pl.String(), "value": pl.String()}))
    return pl.DataFrame(
        rows,
        schema={"product_id": pl.String, "title": pl.String, "description": pl.String, "attributes": attrs},
    )


def real(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    csv = Path(args.datasets) / "flipkart-products" / "product.csv"
    if not csv.exists():
        print(f"\nreal data: {csv} not found, skipped")
        return {"real_skipped": True}
    products = flipkart_products(csv).unique("product_id", keep="first")
    entity_types = sorted(set(FLIPKART_TYPES.values()))
    config = TrainConfig(
        experiment="bench-ner-real",
        entity_types=entity_types,
        attribute_types=FLIPKART_TYPES,
        epochs=args.real_epochs,
        learning_rate=args.learning_rate,
        max_length=args.real_max_length,
        batch_size=args.batch_size,
        val_share=0.1,
        test_share=0.2,
        seed=args.seed,
        patience=2,
    )
    uri = f"sqlite:///{workdir / 'mlflow-real.db'}"
    started = time.perf_counter()
    result = train_ner(products, {}, config, uri)
    train_s = time.perf_counter() - started
    split = assign_split(products, config.val_share, config.test_share, config.split_salt)
    held_out, train = split.filter(pl.col(SPLIT) == TEST), split.filter(pl.col(SPLIT) == "train")
    # Ground truth: each held-out product's own specification values found in its text.
    gold = weak_label_spans(held_out, {}, FLIPKART_TYPES).select(KEYS)
    # Baseline: the string matcher with every value seen in the training products' specifications (it
    # cannot use the held-out products' own specifications: they are the truth).
    gazetteer: dict[str, list[str]] = {}
    for row in train.select(pl.col("attributes").explode().struct.unnest()).drop_nulls().unique().iter_rows():
        if row[0] in FLIPKART_TYPES:
            gazetteer.setdefault(FLIPKART_TYPES[row[0]], []).append(row[1])
    candidates = product_candidates(gazetteer, {})
    base_rows = [
        (pid, field, m.start, m.end, m.type)
        for pid, title, desc in held_out.select("product_id", "title", "description").iter_rows()
        for field, text in (("title", title), ("description", desc))
        if text
        for m in label_text(text, candidates)
    ]
    baseline = pl.DataFrame(base_rows, schema=gold.schema, orient="row")
    examples = text_examples(held_out)
    pred = model_spans(uri, result.version, examples, workdir, 32)
    model_scores, matcher_scores = entity_scores(gold, pred), entity_scores(gold, baseline)
    print_scores(f"real (Flipkart): trained model on {held_out.height} held-out products", model_scores)
    print_scores(
        "real (Flipkart): string matcher with the training products' specification values", matcher_scores
    )
    return {
        "real_products": products.height,
        "real_test_products": held_out.height,
        "real_gold_spans": gold.height,
        "real_epochs_run": result.epochs_run,
        "real_train_s": round(train_s, 1),
        "real_model_f1": round(micro_f1(model_scores), 4),
        "real_matcher_f1": round(micro_f1(matcher_scores), 4),
        "real_model_f1_by_type": per_type_f1(model_scores),
        "real_matcher_f1_by_type": per_type_f1(matcher_scores),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--real-epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--real-max-length", type=int, default=96)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is far faster on a busy shared machine)"
    )
    parser.add_argument(
        "--datasets",
        default=os.environ.get("SHOPGRAPH_DATASETS", str(REPO_ROOT.parent / "shared" / "datasets")),
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shopgraph-bench-ner-") as tmp:
        result: dict[str, Any] = {"device": str(choose_device("auto")), "threads": torch.get_num_threads()}
        result.update(synthetic(args, Path(tmp)))
        if not args.skip_real:
            result.update(real(args, Path(tmp)))
    result["total_s"] = round(time.perf_counter() - started, 1)
    sys.stdout.flush()
    print("RESULT " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
