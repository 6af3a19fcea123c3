"""Recommender inputs: the graph export snapshot and embeddings from the lake, or RecBole files on disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl

from shopgraph.adapters.graph_export import (
    MANIFEST,
    ExportMissingError,
    export_table_names,
)
from shopgraph.adapters.lake import filesystem, lake_path, partition_files, read_bytes, read_parquet
from shopgraph.domain.recsys.build import (
    INTERACTIONS,
    ITEM_CATEGORIES,
    ITEM_ENTITIES,
    KG_TRIPLES,
    PRODUCTS,
)
from shopgraph.embedding import read_product_embeddings
from shopgraph.importers.recbole import read_atomic
from shopgraph.importers.report import ImportReport
from shopgraph.schemas.lake_layout import PRODUCT_EMBEDDINGS


class SourceError(ExportMissingError):
    """Recommender input is missing or unreadable; the message names the path."""


def snapshot_digest(folder: str) -> str:
    """The content digest of a complete export snapshot, from its manifest."""
    manifest = lake_path(folder, MANIFEST)
    fs, target = filesystem(manifest)
    if not fs.exists(target):
        raise SourceError(f"{folder}: not a complete graph export (no {MANIFEST})")
    return str(json.loads(read_bytes(manifest))["digest"])


def snapshot_frames(folder: str) -> tuple[dict[str, pl.DataFrame], str]:
    """Every export table of the snapshot folder by name, and the snapshot digest from its manifest."""
    digest = snapshot_digest(folder)
    return {name: read_parquet(lake_path(folder, f"{name}.parquet")) for name in export_table_names()}, digest


def embeddings_fingerprint(lake: str) -> str:
    """A digest of the stored product vectors' files (empty text before enrichment)."""
    files = partition_files(lake_path(lake, *PRODUCT_EMBEDDINGS))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.rsplit("/", 1)[-1].encode())
        digest.update(read_bytes(path))
    return digest.hexdigest() if files else ""


def lake_embeddings(lake: str) -> pl.DataFrame | None:
    """product_id, embedding of the enriched product vectors, or None before enrichment."""
    stored = read_product_embeddings(lake)
    return None if stored is None else stored.select("product_id", "embedding")


def recbole_frames(folder: str, stem: str) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Export-shaped frames from RecBole atomic files <stem>.inter/.item/.link/.kg, and item texts.

    Ratings become RATED interactions (count 1) at their timestamp; .item `class` tokens become categories;
    .link and .kg become item entities and triples. Returns (frames, product_id + text).
    """
    base = Path(folder)
    report = ImportReport("recbole", stem, folder)

    def atomic(suffix: str) -> pl.DataFrame | None:
        path = base / f"{stem}.{suffix}"
        return read_atomic(str(path), suffix, report)[1] if path.exists() else None

    inter = atomic("inter")
    if inter is None:
        raise SourceError(f"{base / (stem + '.inter')}: missing")
    frames: dict[str, pl.DataFrame] = {
        INTERACTIONS: inter.select(
            pl.col("user_id"),
            pl.col("item_id").alias("product_id"),
            pl.lit("RATED").alias("interaction"),
            pl.lit(1, pl.Int64).alias("count"),
            pl.from_epoch(pl.col("timestamp").cast(pl.Float64).cast(pl.Int64), "s")
            .dt.replace_time_zone("UTC")
            .alias("first_at"),
            pl.col("rating").cast(pl.Float64).round().cast(pl.Int64).alias("rating"),
        )
    }
    items = atomic("item")
    texts = pl.DataFrame(schema={"product_id": pl.String, "text": pl.String})
    if items is not None:
        frames[PRODUCTS] = items.select(pl.col("item_id").alias("product_id"), pl.lit(True).alias("active"))
        title = pl.col("movie_title") if "movie_title" in items.columns else pl.col("item_id")
        genres = pl.col("class").fill_null("") if "class" in items.columns else pl.lit("")
        texts = items.select(
            pl.col("item_id").alias("product_id"),
            pl.concat_str([title, pl.lit(". "), genres], ignore_nulls=True).alias("text"),
        )
        if "class" in items.columns:
            frames[ITEM_CATEGORIES] = (
                items.select(pl.col("item_id").alias("product_id"), pl.col("class").str.split(" "))
                .explode("class")
                .filter(pl.col("class").is_not_null() & (pl.col("class") != ""))
                .select("product_id", pl.col("class").alias("category_path"))
                .unique()
            )
    links = atomic("link")
    if links is not None:
        frames[ITEM_ENTITIES] = links.select(pl.col("item_id").alias("product_id"), pl.col("entity_id"))
    kg = atomic("kg")
    if kg is not None:
        frames[KG_TRIPLES] = kg.select(
            pl.col("head_id"), pl.col("relation_id").alias("relation"), pl.col("tail_id")
        )
    return frames, texts
