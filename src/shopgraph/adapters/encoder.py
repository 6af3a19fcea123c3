"""The text encoder: tokenizer and AutoModel on the chosen device, with a model version string."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModel, AutoTokenizer

from shopgraph.adapters.model_source import (
    ModelSourceError,
    autocast_dtype,
    choose_device,
    resolve_model_source,
)

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
# Part of every model version: changing the pooling or truncation recipe must re-embed everything.
POOLING_RECIPE = "mean-l2"
HASH_CHUNK = 1 << 22


@dataclass(frozen=True)
class EncoderSpec:
    """Which encoder to load: a bundled name, a hub id or a local folder; device preference; max tokens."""

    model: str
    device: str = "auto"
    max_length: int = 256


@dataclass
class Encoder:
    """A loaded tokenizer and model ready for inference, and the version string stored with each vector."""

    tokenizer: Any
    model: torch.nn.Module
    device: torch.device
    autocast: torch.dtype | None
    model_version: str
    max_length: int

    @property
    def dimension(self) -> int:
        """Width of the sentence vectors (the model's hidden size)."""
        config: Any = self.model.config
        return int(config.hidden_size)


@lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime so that a replaced file is hashed again, an unchanged one only once a process.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _model_folder(source: str) -> Path:
    folder = Path(source)
    if folder.is_dir():
        return folder
    from transformers.utils import cached_file

    try:
        config = cached_file(source, "config.json")
    except OSError as exc:
        raise ModelSourceError(
            f"model {source!r}: no config.json found locally or on the hub: {exc}"
        ) from exc
    if config is None:
        raise ModelSourceError(f"model {source!r}: no config.json found locally or on the hub")
    return Path(config).parent


def model_identity(folder: Path) -> dict[str, str]:
    """What identifies a model's weights: its config, and each weights file's sha256 (or the hub commit)."""
    config = folder / "config.json"
    if not config.is_file():
        raise ModelSourceError(f"{folder}: no config.json, not a transformers model folder")
    identity = {"config.json": hashlib.sha256(config.read_bytes()).hexdigest()}
    if folder.parent.name == "snapshots":
        # A hub cache snapshot: the folder name is the commit, which pins every file in it.
        identity["commit"] = folder.name
        return identity
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.endswith(WEIGHT_SUFFIXES):
            stat = path.stat()
            identity[path.name] = _file_digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    return identity


def model_version(spec: EncoderSpec) -> str:
    """`<model name>@<12 hex>`: the hash covers config, weights, max_length and the pooling recipe.

    Cheap enough to compute before deciding whether anything needs embedding (no model is loaded).
    """
    identity = model_identity(_model_folder(resolve_model_source(spec.model)))
    identity["max_length"] = str(spec.max_length)
    identity["pooling"] = POOLING_RECIPE
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{spec.model.rstrip('/').rsplit('/', 1)[-1]}@{digest[:12]}"


def load_encoder(spec: EncoderSpec) -> Encoder:
    """Load the tokenizer and AutoModel in eval mode on the chosen device (bf16 autocast on CUDA)."""
    source = resolve_model_source(spec.model)
    version = model_version(spec)
    device = choose_device(spec.device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModel.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise ModelSourceError(f"model {spec.model!r} ({source}) could not be loaded: {exc}") from exc
    model.to(device)
    model.eval()
    positions = getattr(model.config, "max_position_embeddings", None)
    max_length = min(spec.max_length, positions) if isinstance(positions, int) else spec.max_length
    return Encoder(
        tokenizer=tokenizer,
        model=model,
        device=device,
        autocast=autocast_dtype(device),
        model_version=version,
        max_length=max_length,
    )
