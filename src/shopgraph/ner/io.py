"""Lake and config files the NER stage reads and writes: curated products, synonyms, enriched tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import yaml

from shopgraph.adapters.lake import (
    lake_path,
    part_name,
    partition_files,
    read_parts,
    remove_tree,
    write_parquet,
)
from shopgraph.errors import ShopgraphError
from shopgraph.schemas.lake_layout import CURRENT_PRODUCTS
from shopgraph.settings import REPO_ROOT

PART_ROWS = 500_000


class NerInputError(ShopgraphError):
    """An input of the NER stage is missing or malformed."""


def read_synonyms(path: str) -> dict[str, dict[str, list[str]]]:
    """conf/ner/synonyms.yaml (relative paths from the repo root): type -> canonical -> surface forms."""
    file = Path(path) if Path(path).is_absolute() else REPO_ROOT / path
    if not file.exists():
        raise NerInputError(f"{file}: synonyms file not found (setting ner.synonyms)")
    loaded: Any = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise NerInputError(f"{file}: expected a mapping of entity type -> canonical value -> list of forms")
    synonyms: dict[str, dict[str, list[str]]] = {}
    for entity_type, values in loaded.items():
        if not isinstance(values, dict):
            raise NerInputError(f"{file}: {entity_type!r} must map canonical values to lists of forms")
        for canonical, forms in values.items():
            if not isinstance(forms, list) or not all(isinstance(f, str | int | float) for f in forms):
                raise NerInputError(f"{file}: {entity_type}.{canonical} must be a list of strings")
            synonyms.setdefault(str(entity_type), {})[str(canonical)] = [str(f) for f in forms]
    return synonyms


def curated_product_files(lake_root: str) -> list[str]:
    """The part files of the current curated products, in part order."""
    return partition_files(lake_path(lake_root, *CURRENT_PRODUCTS))


def read_curated_products(lake_root: str) -> pl.DataFrame:
    """All current curated products; a clear error when ingestion has not written them yet."""
    products = read_parts(curated_product_files(lake_root))
    if products is None:
        folder = lake_path(lake_root, *CURRENT_PRODUCTS)
        raise NerInputError(f"no curated products in {folder}: run the ingest flow first")
    return products


def write_table(lake_root: str, parts: tuple[str, ...], frame: pl.DataFrame) -> list[str]:
    """Replace a lake table with the frame: parts written aside and renamed in, stale parts removed."""
    folder = lake_path(lake_root, *parts)
    written: list[str] = []
    for index, begin in enumerate(range(0, max(frame.height, 1), PART_ROWS)):
        written.append(write_parquet(frame.slice(begin, PART_ROWS), lake_path(folder, part_name(index))))
    for stale in partition_files(folder):
        if stale not in written:
            remove_tree(stale)
    return written
