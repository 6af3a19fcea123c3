"""The shelf: products listed on a day, grouped by category, with popularity cumsums for fast sampling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopgraph.domain.generator.catalog import Catalog
from shopgraph.domain.generator.vocabulary import CATEGORIES


@dataclass(frozen=True)
class Shelf:
    """Listed product indices overall and per category, with normalised cumulative popularity per category."""

    listed: np.ndarray
    by_category: tuple[np.ndarray, ...]
    cumulative: tuple[np.ndarray, ...]

    def sample(self, category: int, uniforms: np.ndarray) -> np.ndarray:
        """Products of a category drawn by popularity, one per uniform in [0, 1)."""
        products = self.by_category[category]
        picks = np.searchsorted(self.cumulative[category], uniforms, side="right")
        return products[np.minimum(picks, products.size - 1)]


def stock_shelf(catalog: Catalog, day: int) -> Shelf:
    """The shelf for a day: every product Catalog.listed(day) allows."""
    listed = np.flatnonzero(catalog.listed(day))
    categories = catalog.category[listed]
    order = np.argsort(categories, kind="stable")
    bounds = np.searchsorted(categories[order], np.arange(len(CATEGORIES) + 1))
    by_category = tuple(listed[order[bounds[c] : bounds[c + 1]]] for c in range(len(CATEGORIES)))
    cumulative = []
    for products in by_category:
        weights = np.cumsum(catalog.popularity[products])
        cumulative.append(weights / weights[-1] if weights.size else weights)
    return Shelf(listed, by_category, tuple(cumulative))
