"""Factor scorer: top-k items per user from user and item vectors, never recommending what a user has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import torch

from shopgraph.domain.recsys.data import RecDataset

FACTORS_FILE = "factors.npz"
RECOMMENDATION_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "product_id": pl.String(),
    "rank": pl.Int32(),
    "score": pl.Float32(),
}


@dataclass(frozen=True)
class FactorScorer:
    """score(u, i) = users[u] . items[i]; seen holds each user's known items as CSR (indptr, indices)."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    users: np.ndarray
    items: np.ndarray
    seen_indptr: np.ndarray
    seen_indices: np.ndarray
    blocked: np.ndarray  # item indexes never recommended (inactive products)

    @staticmethod
    def from_dataset(data: RecDataset, users: np.ndarray, items: np.ndarray) -> FactorScorer:
        """Seen items are every known pair (train, valid and test): batch recommendations exclude them all."""
        pairs_u = np.concatenate([data.train.users, data.valid.users, data.test.users])
        pairs_i = np.concatenate([data.train.items, data.valid.items, data.test.items])
        order = np.lexsort((pairs_i, pairs_u))
        indptr = np.zeros(data.n_users + 1, np.int64)
        np.add.at(indptr, pairs_u + 1, 1)
        return FactorScorer(
            np.asarray(data.user_ids, dtype=object),
            np.asarray(data.item_ids, dtype=object),
            users.astype(np.float32),
            items.astype(np.float32),
            np.cumsum(indptr),
            pairs_i[order].astype(np.int64),
            data.inactive_items.astype(np.int64),
        )

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FACTORS_FILE
        np.savez_compressed(
            path,
            user_ids=self.user_ids.astype(str),
            item_ids=self.item_ids.astype(str),
            users=self.users,
            items=self.items,
            seen_indptr=self.seen_indptr,
            seen_indices=self.seen_indices,
            blocked=self.blocked,
        )
        return path

    @staticmethod
    def load(path: Path) -> FactorScorer:
        with np.load(path, allow_pickle=False) as stored:
            return FactorScorer(
                stored["user_ids"].astype(object),
                stored["item_ids"].astype(object),
                stored["users"],
                stored["items"],
                stored["seen_indptr"],
                stored["seen_indices"],
                stored["blocked"] if "blocked" in stored else np.zeros(0, np.int64),
            )

    def recommend(
        self, user_ids: list[str], k: int, batch_users: int = 2048, exclude: Sequence[str] = ()
    ) -> pl.DataFrame:
        """user_id, product_id, rank (from 1), score per known user_id asked; unknown ones are absent.

        Never recommends a user's known items, inactive items, or the product ids in exclude.
        """
        lookup = {user: index for index, user in enumerate(self.user_ids.tolist())}
        blocked = self.blocked_indexes(exclude)
        known = [(user, lookup[user]) for user in dict.fromkeys(user_ids) if user in lookup]
        k = min(k, len(self.item_ids))
        items = torch.from_numpy(self.items)
        frames = []
        for start in range(0, len(known), batch_users):
            chunk = known[start : start + batch_users]
            rows = np.array([index for _, index in chunk], np.int64)
            scores = torch.from_numpy(self.users[rows]) @ items.T
            counts = self.seen_indptr[rows + 1] - self.seen_indptr[rows]
            seen_rows = np.repeat(np.arange(len(rows)), counts)
            seen_cols = (
                np.concatenate(
                    [self.seen_indices[self.seen_indptr[r] : self.seen_indptr[r + 1]] for r in rows]
                )
                if len(rows)
                else np.zeros(0, np.int64)
            )
            scores[torch.from_numpy(seen_rows), torch.from_numpy(seen_cols.astype(np.int64))] = -torch.inf
            scores[:, torch.from_numpy(blocked)] = -torch.inf
            top = torch.topk(scores, k, dim=1)
            valid = torch.isfinite(top.values)
            frames.append(
                pl.DataFrame(
                    {
                        "user_id": np.repeat(np.array([user for user, _ in chunk], dtype=object), k),
                        "product_id": self.item_ids[top.indices.numpy().ravel()],
                        "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), len(chunk)),
                        "score": top.values.numpy().ravel().astype(np.float32),
                    },
                    schema=RECOMMENDATION_SCHEMA,
                ).filter(pl.Series(valid.numpy().ravel()))
            )
        if not frames:
            return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
        return pl.concat(frames)

    def blocked_indexes(self, exclude: Sequence[str]) -> np.ndarray:
        """Item indexes never recommended: the inactive ones plus those of the excluded product ids."""
        if not exclude:
            return self.blocked
        wanted = set(exclude)
        extra = np.array([i for i, item in enumerate(self.item_ids.tolist()) if item in wanted], np.int64)
        return np.union1d(self.blocked, extra).astype(np.int64)
