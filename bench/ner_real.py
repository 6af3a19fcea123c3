"""NER benchmark on the real Flipkart catalog: entity F1 per type of a model trained on one split against
the weak-label string matcher, with each held-out product's specification values found in its text as
ground truth. bench/ner.py does the same on the generated shop.

Usage: .venv/bin/python bench/ner_real.py [--epochs 2] [--max-length 96] [--datasets PATH]
Ends with one line `RESULT {json}` ({"real_skipped": true} when the data set is absent).
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ner_common import KEYS, model_spans, parser, per_type_f1, print_scores, run  # noqa: E402
from shopgraph.domain.ner.examples import text_examples  # noqa: E402
from shopgraph.domain.ner.labels import label_text, product_candidates, weak_label_spans  # noqa: E402
from shopgraph.domain.ner.metrics import entity_scores, micro_f1  # noqa: E402
from shopgraph.domain.ner.split import SPLIT, TEST, assign_split  # noqa: E402
from shopgraph.ner.train import TrainConfig, train_ner  # noqa: E402
from shopgraph.settings import REPO_ROOT  # noqa: E402

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
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
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
    options = parser(__doc__)
    options.add_argument("--epochs", type=int, default=2)
    options.add_argument("--max-length", type=int, default=96)
    options.add_argument(
        "--datasets",
        default=os.environ.get("SHOPGRAPH_DATASETS", str(REPO_ROOT.parent / "shared" / "datasets")),
    )
    run(options.parse_args(), "shopgraph-bench-ner-real-", real)


if __name__ == "__main__":
    main()
