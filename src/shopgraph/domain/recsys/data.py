"""Index-encoded recommendation data: interactions as COO arrays, item side information, splits."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Interactions:
    """One split's user-item pairs as parallel arrays: user index, item index, weight, unix seconds."""

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    weights: np.ndarray  # float32, > 0
    times: np.ndarray  # int64 unix seconds (0 when unknown)

    def __len__(self) -> int:
        return int(self.users.shape[0])

    @staticmethod
    def empty() -> Interactions:
        return Interactions(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64)
        )

    def select(self, mask: np.ndarray) -> Interactions:
        """The rows where mask (bool array or index array) holds."""
        return Interactions(self.users[mask], self.items[mask], self.weights[mask], self.times[mask])


@dataclass(frozen=True)
class RecDataset:
    """Everything a recommender sees, index-encoded.

    user_ids/item_ids map indexes back to ids. train/valid/test hold one row per (user, item) pair.
    item_entities links item index -> entity index (brands, categories, attributes, external entities);
    entity_types names each entity's kind. kg_triples holds (head entity, relation, tail entity) indexes.
    item_text is an (n_items x d) float32 matrix of L2-normalised text embeddings (zero rows where missing).
    """

    name: str
    split: str
    user_ids: list[str]
    item_ids: list[str]
    train: Interactions
    valid: Interactions
    test: Interactions
    entity_ids: list[str] = field(default_factory=list)
    entity_types: list[str] = field(default_factory=list)
    item_entities: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    relation_ids: list[str] = field(default_factory=list)
    kg_triples: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    item_text: np.ndarray | None = None
    inactive_items: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # never recommended
    digest: str = ""

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_entities(self) -> int:
        return len(self.entity_ids)

    def cold_items(self) -> np.ndarray:
        """Indexes of items with no training interaction."""
        seen = np.zeros(self.n_items, bool)
        seen[self.train.items] = True
        return np.flatnonzero(~seen)
