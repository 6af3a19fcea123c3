"""Deterministic train/validation/test split of products by a hash of their key."""

from __future__ import annotations

import hashlib

import polars as pl

from shopgraph.schemas import landing as L

TRAIN, VALIDATION, TEST = "train", "val", "test"
SPLIT = "split"


def hash_unit(key: str, salt: str = "") -> float:
    """A stable number in [0, 1) for a key: the same key and salt give the same number everywhere."""
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_of(key: str, val_share: float, test_share: float, salt: str = "") -> str:
    """'test' for the first test_share of the hash range, 'val' for the next val_share, else 'train'."""
    if val_share < 0 or test_share < 0 or val_share + test_share >= 1:
        raise ValueError(f"shares must be >= 0 and sum below 1, got val {val_share}, test {test_share}")
    unit = hash_unit(key, salt)
    if unit < test_share:
        return TEST
    if unit < test_share + val_share:
        return VALIDATION
    return TRAIN


def assign_split(
    products: pl.DataFrame,
    val_share: float,
    test_share: float,
    salt: str = "",
    col_key: str = L.PRODUCT_ID,
) -> pl.DataFrame:
    """The products with a `split` column (train/val/test) from a hash of col_key; reads only col_key."""
    return products.with_columns(
        pl.col(col_key)
        .map_elements(lambda key: split_of(key, val_share, test_share, salt), return_dtype=pl.String)
        .alias(SPLIT)
    )
