"""Named random streams: one independent, reproducible generator per (seed, table, day, chunk)."""

from __future__ import annotations

import hashlib
import random

import numpy as np


def _word(name: str | int) -> int:
    if isinstance(name, int):
        if name < 0:
            raise ValueError(f"stream keys must be non-negative, got {name}")
        return name
    # hash() is salted per process; a digest keeps streams stable across runs.
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def stream(seed: int, *names: str | int) -> np.random.Generator:
    """A numpy Generator that depends only on the seed and the names, never on what ran before."""
    return np.random.default_rng(np.random.SeedSequence([_word(seed), *(_word(n) for n in names)]))


def text_random(text_seed: int) -> random.Random:
    """A Python generator for rendering one text; its Mersenne Twister is stable across versions."""
    return random.Random(int(text_seed))
