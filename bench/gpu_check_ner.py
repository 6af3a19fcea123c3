"""GPU check for the NER stage: a short fine-tune and batched inference on generated products, printing
texts/s, real tokens/s, the share of padded slots holding real tokens and peak GPU memory.

Usage: .venv/bin/python bench/gpu_check_ner.py [--products 2000] [--epochs 1] [--device auto]
Called by bench/gpu_check.sh; runs on CPU too (slowly). Ends with one line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl
import torch

from shopgraph.adapters.lake import landing_files, read_parquet
from shopgraph.adapters.model_source import choose_device
from shopgraph.adapters.registry import download_model
from shopgraph.domain.ner.examples import text_examples
from shopgraph.generate import generate_shop
from shopgraph.ner.io import read_synonyms
from shopgraph.ner.model import encode, load_model, predict_tags
from shopgraph.ner.train import TrainConfig, train_ner
from shopgraph.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--train-products", type=int, default=4000, help="products used for the fine-tune")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--inference-batch-size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = choose_device(args.device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory(prefix="shopgraph-gpu-ner-") as tmp:
        lake = str(Path(tmp) / "lake")
        generate_shop(lake, products=args.products, users=20, days=1, start_date=date(2026, 1, 1), seed=3)
        landing = pl.concat([read_parquet(f) for f in landing_files(lake, "products")])
        products = landing.filter(~pl.col("is_deleted")).drop("is_deleted")
        uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        config = TrainConfig(
            experiment="gpu-check-ner",
            epochs=args.epochs,
            max_products=args.train_products,
            batch_size=args.batch_size,
            device=args.device,
            eval_batch_size=args.inference_batch_size,
        )
        started = time.perf_counter()
        result = train_ner(products, read_synonyms(load_settings().ner.synonyms), config, uri)
        train_s = time.perf_counter() - started
        ner = load_model(
            download_model(f"models:/shopgraph-ner/{result.version}", uri, Path(tmp) / "m"), device
        )
        word_lists = [[w.text for w in ex.words] for ex in text_examples(products)]
        lengths = sorted(len(encode(ner, words)["input_ids"]) for words in word_lists)
        slots = sum(
            len(lengths[i : i + args.inference_batch_size]) * lengths[i : i + args.inference_batch_size][-1]
            for i in range(0, len(lengths), args.inference_batch_size)
        )
        predict_tags(ner, word_lists[: args.inference_batch_size], args.inference_batch_size)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        started = time.perf_counter()
        predict_tags(ner, word_lists, args.inference_batch_size)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        infer_s = time.perf_counter() - started
    report = {
        "stage": "ner",
        "device": str(device),
        "bf16": device.type == "cuda" and torch.cuda.is_bf16_supported(),
        "train_texts": result.train_texts,
        "train_s": round(train_s, 1),
        "val_f1_weak": round(result.val_f1, 4),
        "texts": len(word_lists),
        "texts_per_s": round(len(word_lists) / infer_s, 1),
        "tokens_per_s": round(sum(lengths) / infer_s, 1),
        "real_token_share": round(sum(lengths) / slots, 4),
        "peak_gpu_mem_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
        if device.type == "cuda"
        else None,
    }
    print(
        f"NER on {device}: {report['texts_per_s']} texts/s, {report['tokens_per_s']} real tokens/s, "
        f"{report['real_token_share']:.1%} of padded slots real, peak GPU MB {report['peak_gpu_mem_mb']}"
    )
    print("RESULT " + json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
