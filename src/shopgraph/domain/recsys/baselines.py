"""Baseline recommenders: popularity, item-kNN, BPR matrix factorisation and EASE (Recommender protocol)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from shopgraph.batching import HalvingBatches
from shopgraph.domain.recsys.api import EpochCallback
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.evaluate import UserItems, evaluate
from shopgraph.domain.recsys.sampling import sample_triples

DENSE_BLOCK_CELLS = 1 << 25  # cells of one dense (users x item block) or (items x item block) work matrix


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _csr(matrix: torch.Tensor) -> torch.Tensor:
    """The coalesced COO matrix as sparse CSR (faster products), without torch's beta-feature warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return matrix.to_sparse_csr()


def _not_fitted(model: str) -> RuntimeError:
    return RuntimeError(f"{model}.score called before fit")


def _pair_values(train: Interactions, weighted: bool) -> np.ndarray:
    return train.weights.astype(np.float64) if weighted else np.ones(len(train), np.float64)


def _gram_blocks(
    train: Interactions,
    n_users: int,
    n_items: int,
    values: np.ndarray,
    dtype: torch.dtype,
    device: torch.device,
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """(start, end, X^T X[:, start:end]) column blocks of the item Gram matrix of the user-item matrix X
    (values per training pair, duplicates summed), so no n_items x n_items matrix is needed at once."""
    users = torch.from_numpy(train.users).long()
    items = torch.from_numpy(train.items).long()
    weights = torch.from_numpy(values).to(dtype)
    transposed = (
        torch.sparse_coo_tensor(
            torch.stack([items, users]), weights, (n_items, n_users), check_invariants=False
        )
        .coalesce()
        .to(device)
    )
    transposed = _csr(transposed)
    block = max(1, min(n_items, DENSE_BLOCK_CELLS // max(n_users, 1), DENSE_BLOCK_CELLS // max(n_items, 1)))
    for start in range(0, n_items, block):
        end = min(n_items, start + block)
        inside = (items >= start) & (items < end)
        columns = torch.zeros(n_users, end - start, dtype=dtype)
        columns.index_put_((users[inside], items[inside] - start), weights[inside], accumulate=True)
        yield start, end, torch.sparse.mm(transposed, columns.to(device))


def _dedup(train: Interactions) -> Interactions:
    """One row per (user, item) pair, so binarised matrices hold ones even if a split repeats a pair."""
    if not len(train):
        return train
    keys = train.users.astype(np.int64) * (int(train.items.max()) + 1) + train.items
    _, first = np.unique(keys, return_index=True)
    return train.select(np.sort(first))


class Popularity:
    """Every user gets the items ranked by their summed training weight."""

    name = "popularity"

    def __init__(self) -> None:
        self.counts: torch.Tensor | None = None

    def params(self) -> dict[str, Any]:
        return {}

    def fit(self, data: RecDataset, on_epoch: EpochCallback | None = None) -> None:
        counts = np.bincount(data.train.items, weights=data.train.weights, minlength=data.n_items)
        self.counts = torch.from_numpy(counts.astype(np.float32))

    def score(self, users: torch.Tensor) -> torch.Tensor:
        if self.counts is None:
            raise _not_fitted(self.name)
        return self.counts.repeat(users.shape[0], 1)


class ItemKNN:
    """Item-based kNN: shrunk cosine item-item similarity over training columns, k neighbours per item;
    a user's score for item j sums the similarities of j's neighbours the user has."""

    name = "item_knn"

    def __init__(self, k: int = 100, shrink: float = 10.0, weighted: bool = False) -> None:
        self.k = k
        self.shrink = shrink
        self.weighted = weighted
        self.similarity_t: torch.Tensor | None = None  # sparse CSR: row j holds j's neighbours i
        self.history: UserItems | None = None
        self.n_items = 0

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "shrink": self.shrink, "weighted": self.weighted}

    def fit(self, data: RecDataset, on_epoch: EpochCallback | None = None) -> None:
        n_items = data.n_items
        train = data.train if self.weighted else _dedup(data.train)
        values = _pair_values(train, self.weighted)
        column_sq = np.bincount(train.items, weights=values**2, minlength=n_items)
        norms = torch.from_numpy(np.sqrt(column_sq)).float()
        neighbours = min(self.k, max(n_items - 1, 0))
        rows, cols, sims = [], [], []
        device = torch.device("cpu")
        for start, end, gram in _gram_blocks(train, data.n_users, n_items, values, torch.float32, device):
            similarity = gram / (norms[:, None] * norms[None, start:end] + self.shrink + 1e-12)
            targets = torch.arange(start, end)
            similarity[targets, targets - start] = 0.0  # an item is not its own neighbour
            if neighbours == 0:
                continue
            best = similarity.topk(neighbours, dim=0)  # per target item j (column): its k best sources i
            keep = best.values > 0
            cols.append(best.indices[keep])
            rows.append(targets[None, :].expand_as(best.indices)[keep])
            sims.append(best.values[keep])
        index = (
            torch.stack([torch.cat(rows), torch.cat(cols)]) if rows else torch.zeros(2, 0, dtype=torch.long)
        )
        values_t = torch.cat(sims) if sims else torch.zeros(0)
        self.similarity_t = _csr(
            torch.sparse_coo_tensor(index, values_t, (n_items, n_items), check_invariants=False).coalesce()
        )
        self.history = UserItems([train], data.n_users)
        self.n_items = n_items

    def score(self, users: torch.Tensor) -> torch.Tensor:
        if self.similarity_t is None or self.history is None:
            raise _not_fitted(self.name)
        rows = self.history.values(users, self.n_items, self.weighted)
        return torch.sparse.mm(self.similarity_t, rows.T).T.contiguous()


class EASE:
    """EASE (Steck 2019): B = I - P / diag(P), P = (X^T X + l2 I)^-1, zero diagonal, on binarised X."""

    name = "ease"

    def __init__(self, l2: float = 500.0, device: str = "auto", max_items: int = 30_000) -> None:
        self.l2 = l2
        self.device_name = device
        self.max_items = max_items  # the dense float64 inverse needs n_items^2 * 8 bytes, several times
        self.weights: torch.Tensor | None = None
        self.history: UserItems | None = None

    def params(self) -> dict[str, Any]:
        return {"l2": self.l2}

    def fit(self, data: RecDataset, on_epoch: EpochCallback | None = None) -> None:
        n_items = data.n_items
        if n_items > self.max_items:
            raise ValueError(f"EASE needs a dense {n_items}^2 inverse; max_items is {self.max_items}")
        device = _device(self.device_name)
        gram = torch.zeros(n_items, n_items, dtype=torch.float64, device=device)
        binary = _dedup(data.train)
        values = np.ones(len(binary), np.float64)
        for start, end, block in _gram_blocks(binary, data.n_users, n_items, values, torch.float64, device):
            gram[:, start:end] = block
        gram.diagonal().add_(self.l2)
        precision = torch.linalg.inv(gram)  # SPD; LU inverse is faster here than cholesky_inverse
        weights = -precision / precision.diagonal()[None, :]
        weights.diagonal().zero_()
        self.weights = weights.float().cpu()
        self.history = UserItems([binary], data.n_users)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        if self.weights is None or self.history is None:
            raise _not_fitted(self.name)
        return self.history.values(users, self.weights.shape[0], weighted=False) @ self.weights


class BPRMF:
    """Matrix factorisation trained with BPR on sampled triples; keeps the epoch with the best validation
    NDCG@20, stops after `patience` epochs without improvement (without a valid split: all epochs)."""

    name = "bpr"

    def __init__(
        self,
        dim: int = 64,
        epochs: int = 60,
        lr: float = 5e-3,
        reg: float = 1e-4,
        batch_size: int = 4096,
        patience: int = 5,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        self.dim, self.epochs, self.lr, self.reg = dim, epochs, lr, reg
        self.batch_size, self.patience, self.seed = batch_size, patience, seed
        self.device = _device(device)
        self.batches = HalvingBatches(batch_size, self.device, "training triples")
        self.user_vectors: torch.Tensor | None = None
        self.item_vectors: torch.Tensor | None = None
        self.best_epoch = 0
        self.sampling_seconds = 0.0

    def params(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "epochs": self.epochs,
            "lr": self.lr,
            "reg": self.reg,
            "batch_size": self.batch_size,
            "patience": self.patience,
            "seed": self.seed,
            "device": str(self.device),
        }

    def fit(self, data: RecDataset, on_epoch: EpochCallback | None = None) -> None:
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        users = nn.Embedding(data.n_users, self.dim)
        items = nn.Embedding(data.n_items, self.dim)
        for table in (users, items):
            nn.init.normal_(table.weight, std=0.1)  # initialised on CPU: same start on every device
        users, items = users.to(self.device), items.to(self.device)
        optimizer = torch.optim.Adam([users.weight, items.weight], lr=self.lr)
        self.batches = HalvingBatches(self.batch_size, self.device, "training triples")
        has_valid = len(data.valid) > 0
        best, stale = -1.0, 0
        best_state = (users.weight.detach().clone(), items.weight.detach().clone())
        self.sampling_seconds = 0.0
        for epoch in range(1, self.epochs + 1):
            started = time.perf_counter()
            sampled = sample_triples(data.train, data.n_items, len(data.train), generator)
            self.sampling_seconds += time.perf_counter() - started
            u_all, p_all, n_all = (t.to(self.device) for t in sampled)
            metrics = {"loss": self._epoch(users, items, optimizer, (u_all, p_all, n_all))}
            self._freeze(users.weight, items.weight)
            if has_valid:
                validation = evaluate(self.score, data, split="valid", metrics="ndcg")
                metrics["val_ndcg@20"] = validation.get("ndcg@20", 0.0)
                if metrics["val_ndcg@20"] > best:
                    best, stale, self.best_epoch = metrics["val_ndcg@20"], 0, epoch
                    best_state = (users.weight.detach().clone(), items.weight.detach().clone())
                else:
                    stale += 1
            else:
                self.best_epoch = epoch
                best_state = (users.weight.detach().clone(), items.weight.detach().clone())
            metrics["epoch_s"] = time.perf_counter() - started
            if on_epoch:
                on_epoch(epoch, metrics)
            if stale >= self.patience:
                break
        self._freeze(*best_state)

    def _epoch(
        self,
        users: nn.Embedding,
        items: nn.Embedding,
        optimizer: torch.optim.Optimizer,
        triples: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    ) -> float:
        """One pass over the sampled triples in batches of self.batches.batch_size (halved for the rest of
        the run when a step runs out of device memory); the mean loss per triple."""
        u_all, p_all, n_all = triples
        total, count = 0.0, 0

        def step(start: int, size: int) -> int:
            nonlocal total, count
            rows = slice(start, start + size)
            u, p, n = users(u_all[rows]), items(p_all[rows]), items(n_all[rows])
            gain = (u * (p - n)).sum(1)
            loss = nn.functional.softplus(-gain).mean()
            loss = loss + self.reg * (u.pow(2).sum() + p.pow(2).sum() + n.pow(2).sum()) / u.shape[0]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * u.shape[0]
            count += u.shape[0]
            return int(u.shape[0])

        self.batches.run(int(u_all.shape[0]), step)
        return total / max(count, 1)

    def _freeze(self, users: torch.Tensor, items: torch.Tensor) -> None:
        self.user_vectors = users.detach().float().cpu().clone()
        self.item_vectors = items.detach().float().cpu().clone()

    def score(self, users: torch.Tensor) -> torch.Tensor:
        if self.user_vectors is None or self.item_vectors is None:
            raise _not_fitted(self.name)
        return self.user_vectors[users.long().cpu()] @ self.item_vectors.T

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """(user vectors, item vectors) as float32 arrays: score = users @ items.T."""
        if self.user_vectors is None or self.item_vectors is None:
            raise RuntimeError("BPRMF.factors called before fit")
        return self.user_vectors.numpy(), self.item_vectors.numpy()
