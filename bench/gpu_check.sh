#!/usr/bin/env bash
# GPU readiness check: runs the enrichment stages on a generated shop and prints throughput (texts/s, real
# tokens/s), the share of padded slots holding real tokens and peak GPU memory. A few minutes on one GPU.
#   bench/gpu_check.sh                 # 20,000 products on CUDA when present (else CPU)
#   bench/gpu_check.sh --small         # 300 products: a dry check that also runs on CPU
#   bench/gpu_check.sh --products N --batch-size B
# Environment: PYTHON (default .venv/bin/python, else python3), SHOPGRAPH_EMBEDDING__DEVICE (auto|cpu|cuda).
set -euo pipefail
cd "$(dirname "$0")/.."

PRODUCTS=20000
BATCH_SIZE=256
while [[ $# -gt 0 ]]; do
  case "$1" in
    --small) PRODUCTS=300; BATCH_SIZE=64; shift ;;
    --products) PRODUCTS="$2"; shift 2 ;;
    --batch-size) BATCH_SIZE="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PYTHON="${PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3 )}"
WORK="$(mktemp -d -t shopgraph-gpu-check-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true

echo "== generated shop: $PRODUCTS products in $WORK"
"$PYTHON" - "$WORK/lake" "$PRODUCTS" <<'PY'
import sys
from datetime import date

import polars as pl

from shopgraph.adapters.lake import lake_path, landing_files, write_parquet
from shopgraph.generate import generate_shop
from shopgraph.schemas import landing as L

lake, products = sys.argv[1], int(sys.argv[2])
generate_shop(lake, products=products, users=100, days=1, start_date=date(2026, 1, 1), seed=7)
current = pl.read_parquet(landing_files(lake, L.PRODUCTS)[0]).filter(~pl.col(L.IS_DELETED)).drop(L.IS_DELETED)
write_parquet(current, lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
print(f"{current.height} live products in curated/products/current")
PY

echo "== embedding stage"
"$PYTHON" - "$WORK/lake" "$BATCH_SIZE" <<'PY'
import sys

import numpy as np
import torch

from shopgraph.adapters.encoder import EncoderSpec, load_encoder
from shopgraph.embedding import embed_texts, read_current_products, update_product_embeddings
from shopgraph.domain.product_text import PRODUCT_TEXT, compose_product_text
from shopgraph.settings import load_settings

lake, batch_size = sys.argv[1], int(sys.argv[2])
settings = load_settings()
spec = EncoderSpec(settings.embedding.model, settings.embedding.device, settings.embedding.max_length)
encoder = load_encoder(spec)
cuda = encoder.device.type == "cuda"
name = torch.cuda.get_device_name(encoder.device) if cuda else "cpu"
print(f"device {encoder.device} ({name}), autocast {encoder.autocast}, model {encoder.model_version}")
if cuda:
    torch.cuda.reset_peak_memory_stats(encoder.device)
report = update_product_embeddings(lake, spec, batch_size=batch_size, load=lambda _: encoder)
stats = report.stats
print(
    f"embedded {report.embedded} texts in {stats.seconds:.2f}s: {stats.texts_per_s:.1f} texts/s, "
    f"{stats.tokens_per_s:.0f} real tokens/s; {stats.fill_share:.1%} of padded slots hold real tokens; "
    f"batch size {stats.batch_size} after {stats.halvings} halving(s)"
)
if cuda:
    print(f"peak GPU memory {torch.cuda.max_memory_allocated(encoder.device) / 2**20:.0f} MiB")
else:
    print("peak GPU memory: n/a (no CUDA device)")
# How far the device's dtype (bf16 autocast on CUDA) moves vectors from full float32 precision.
texts = compose_product_text(read_current_products(lake)).get_column(PRODUCT_TEXT).to_list()[:512]
fast, _ = embed_texts(encoder, texts, batch_size=batch_size)
encoder.autocast = None
exact, _ = embed_texts(encoder, texts, batch_size=batch_size)
print(f"max cosine error vs float32 on {len(texts)} texts: {float(np.max(1 - np.sum(fast * exact, axis=1))):.2e}")
PY

# ---- NER step (owned by the NER helper: add the extraction throughput lines here) -------------------------
echo "== NER stage"
# A one-epoch fine-tune on up to 4,000 products (a few on --small), then batched inference over all of them.
"$PYTHON" bench/gpu_check_ner.py --products "$PRODUCTS" --train-products "$(( PRODUCTS < 4000 ? PRODUCTS : 4000 ))" \
  --inference-batch-size "$BATCH_SIZE" --device "${SHOPGRAPH_NER__DEVICE:-auto}"
# ---- end of NER step ----------------------------------------------------------------------------------------
echo "== done"
