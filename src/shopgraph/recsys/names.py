"""Recommender model names and their checking, without importing any model code (fast CLI errors)."""

from __future__ import annotations

from shopgraph.errors import ShopgraphError
from shopgraph.settings import RecsysSettings

MODEL_NAMES: tuple[str, ...] = ("popularity", "item_knn", "bpr", "ease", "kg_text_gcn")


class UnknownModelError(ShopgraphError):
    """A model name that is not one of MODEL_NAMES."""


def resolve_names(requested: str, config: RecsysSettings) -> list[str]:
    """'all' -> the configured list; otherwise a comma-separated list, each checked."""
    names = (
        list(config.models) if requested == "all" else [n.strip() for n in requested.split(",") if n.strip()]
    )
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown or not names:
        raise UnknownModelError(
            f"unknown model {', '.join(unknown) or requested!r}; choose from {', '.join(MODEL_NAMES)} or all"
        )
    return names
