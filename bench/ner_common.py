"""What the NER benchmarks share: span keys, per-type scores, printing, scoring a registered model."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import torch

from shopgraph.adapters.model_source import choose_device
from shopgraph.adapters.registry import download_model
from shopgraph.domain.ner.metrics import F1
from shopgraph.ner.model import load_model
from shopgraph.ner.train import predicted_frame

KEYS = ["product_id", "field", "start", "end", "type"]


def per_type_f1(scores: pl.DataFrame) -> dict[str, float]:
    return {row["type"]: round(row[F1], 4) for row in scores.iter_rows(named=True)}


def print_scores(title: str, scores: pl.DataFrame) -> None:
    print(f"\n{title}")
    with pl.Config(tbl_rows=30, float_precision=3):
        print(scores)


def model_spans(
    tracking_uri: str, version: str, examples: list[Any], workdir: Path, batch_size: int
) -> pl.DataFrame:
    """Spans predicted by version `version` of shopgraph-ner in the MLflow store at tracking_uri."""
    folder = download_model(f"models:/shopgraph-ner/{version}", tracking_uri, workdir / f"model-{version}")
    ner = load_model(folder, choose_device("auto"))
    return predicted_frame(ner, examples, batch_size)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """Options of both benchmarks: training knobs, seed and torch threads."""
    parsed = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parsed.add_argument("--learning-rate", type=float, default=3e-4)
    parsed.add_argument("--batch-size", type=int, default=16)
    parsed.add_argument("--seed", type=int, default=42)
    parsed.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is far faster on a busy shared machine)"
    )
    return parsed


def run(
    args: argparse.Namespace, prefix: str, stage: Callable[[argparse.Namespace, Path], dict[str, Any]]
) -> None:
    """Run one benchmark stage in a temporary folder and print its figures as the final `RESULT {json}`."""
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        result: dict[str, Any] = {"device": str(choose_device("auto")), "threads": torch.get_num_threads()}
        result.update(stage(args, Path(tmp)))
    result["total_s"] = round(time.perf_counter() - started, 1)
    sys.stdout.flush()
    print("RESULT " + json.dumps(result, sort_keys=True))
