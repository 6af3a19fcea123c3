"""KG-text graph recommender: LightGCN propagation over users and items whose representations also carry
their knowledge-graph entities and projected text embeddings, so items without interactions rank too."""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from shopgraph.domain.recsys.api import EpochCallback
from shopgraph.domain.recsys.data import RecDataset
from shopgraph.domain.recsys.evaluate import evaluate
from shopgraph.domain.recsys.sampling import sample_triples


@dataclass(frozen=True)
class KgTextGcnConfig:
    """Hyperparameters of KgTextGcn; all of them are logged to MLflow."""

    dim: int = 64
    layers: int = 3
    epochs: int = 60
    batch_size: int = 2048
    lr: float = 1e-2
    reg: float = 1e-4  # L2 on the layer-0 embeddings of each batch's nodes
    kg_weight: float = 1.0  # scale of the items' mean entity embedding in their layer-0 representation
    text_weight: float = 1.0  # scale of the projected text embedding added to the item's own embedding
    # Share of items whose own embedding is hidden per step: teaches reliance on text and KG.
    id_dropout: float = 0.1
    cold_scale: float = 0.25  # share of layer 0 an item without training edges keeps (0.25 = 1/(layers+1))
    patience: int = 5  # epochs without a better validation NDCG@20 before stopping
    eval_every: int = 1
    seed: int = 0
    device: str = "auto"


def pick_device(name: str) -> torch.device:
    """auto: CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _sparse(row: np.ndarray, col: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    index = torch.from_numpy(np.stack([row, col]).astype(np.int64))
    tensor = torch.sparse_coo_tensor(index, torch.from_numpy(values), shape, check_invariants=False)
    return tensor.coalesce()


def normalized_adjacency(data: RecDataset) -> torch.Tensor:
    """Symmetric D^-1/2 A D^-1/2 of the user-item training graph over [users | items], sparse COO."""
    n_u, n_i = data.n_users, data.n_items
    row = np.concatenate([data.train.users, data.train.items + n_u])
    col = np.concatenate([data.train.items + n_u, data.train.users])
    adjacency = _sparse(row, col, np.ones(len(row), np.float32), (n_u + n_i, n_u + n_i))
    degree = torch.zeros(n_u + n_i).index_add_(0, adjacency.indices()[0], adjacency.values())
    scale = degree.clamp(min=1e-12).pow(-0.5) * (degree > 0)
    i = adjacency.indices()
    values = (adjacency.values() * scale[i[0]] * scale[i[1]]).numpy()
    return _sparse(i[0].numpy(), i[1].numpy(), values, (n_u + n_i, n_u + n_i))


def row_mean(row: np.ndarray, col: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    """A sparse (rows x cols) matrix averaging, per row, the columns it links to (rows without links: 0)."""
    if not len(row):
        return _sparse(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), shape)
    counts = np.bincount(row, minlength=shape[0]).astype(np.float32)
    return _sparse(row, col, 1.0 / counts[row], shape)


class _Network(nn.Module):
    """Layer 0 of an item = its own embedding (hidden for cold items) + projected text + the mean of its
    knowledge-graph entities, each entity already enriched by one hop over the KG triples; LightGCN layers
    then propagate over the user-item graph. The KG enters through the items, so a large KG (tens of
    thousands of entities) costs one sparse product per step instead of growing every propagation."""

    def __init__(self, data: RecDataset, config: KgTextGcnConfig) -> None:
        super().__init__()
        self.n_users, self.n_items = data.n_users, data.n_items
        self.layers = config.layers
        self.text_weight = config.text_weight
        self.kg_weight = config.kg_weight
        self.cold_scale = config.cold_scale
        # Users and items without a training pair: the rows of the adjacency that are empty, known once.
        degree = (
            np.bincount(data.train.users, minlength=data.n_users),
            np.bincount(data.train.items, minlength=data.n_items),
        )
        self.register_buffer("isolated", torch.from_numpy(np.concatenate(degree) == 0))
        self.users = nn.Embedding(data.n_users, config.dim)
        self.items = nn.Embedding(data.n_items, config.dim)
        self.entities = nn.Embedding(max(data.n_entities, 1), config.dim)
        for table in (self.users, self.items, self.entities):
            nn.init.normal_(table.weight, std=0.1)
        text = data.item_text if data.item_text is not None else np.zeros((data.n_items, 0), np.float32)
        self.register_buffer("text", torch.from_numpy(np.ascontiguousarray(text, dtype=np.float32)))
        self.project = nn.Linear(text.shape[1], config.dim, bias=False) if text.shape[1] else None
        n_e = max(data.n_entities, 1)
        links = data.item_entities
        item_entities = row_mean(links[:, 0], links[:, 1], (data.n_items, n_e))
        triples = data.kg_triples
        heads = np.concatenate([triples[:, 0], triples[:, 2]])
        tails = np.concatenate([triples[:, 2], triples[:, 0]])
        neighbours = row_mean(heads, tails, (n_e, n_e))
        # items x entities: each item's entities plus their KG neighbours, folded into one matrix once so a
        # training step costs one sparse product however large the KG is.
        folded = (item_entities + torch.sparse.mm(item_entities, neighbours)).coalesce()
        self.register_buffer("item_entities", folded)
        self.has_entities = bool(len(links))

    def layer0(self, item_mask: torch.Tensor | None = None) -> torch.Tensor:
        items = self.items.weight if item_mask is None else self.items.weight * item_mask[:, None]
        if self.project is not None:
            items = items + self.text_weight * self.project(self.text)
        if self.has_entities:
            items = items + self.kg_weight * torch.sparse.mm(self.item_entities, self.entities.weight)
        return torch.cat([self.users.weight, items])

    def propagate(self, adjacency: torch.Tensor, item_mask: torch.Tensor | None = None) -> torch.Tensor:
        first = self.layer0(item_mask)
        current, total = first, first
        for _ in range(self.layers):
            current = torch.sparse.mm(adjacency, current)
            total = total + current
        mean = total / (self.layers + 1)
        # A node without training edges gets nothing from propagation: averaging its layer 0 with empty
        # layers would shrink cold items' scores by (layers + 1) against warm ones; cold_scale sets how
        # much of its layer 0 it keeps instead (1: all of it).
        isolated = cast(torch.Tensor, self.isolated)
        return torch.where(isolated[:, None], first * self.cold_scale, mean)


class KgTextGcn:
    """The main model; implements the Recommender protocol (fit, score) plus factors() for serving."""

    name = "kg_text_gcn"

    def __init__(self, config: KgTextGcnConfig | None = None) -> None:
        self.config = config or KgTextGcnConfig()
        self.device = pick_device(self.config.device)
        self.user_vectors: torch.Tensor | None = None
        self.item_vectors: torch.Tensor | None = None
        self.best_epoch = 0
        self.sampling_seconds = 0.0
        self.train_seconds = 0.0
        self._warm: torch.Tensor | None = None

    def params(self) -> dict[str, Any]:
        return {**asdict(self.config), "device": str(self.device)}

    def fit(self, data: RecDataset, on_epoch: EpochCallback | None = None) -> None:
        """BPR on sampled (user, positive, negative) triples; keeps the epoch of best validation NDCG@20."""
        config = self.config
        torch.manual_seed(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        network = _Network(data, config).to(self.device)
        adjacency = normalized_adjacency(data).to(self.device)
        optimizer = torch.optim.Adam(network.parameters(), lr=config.lr)
        use_bf16 = self.device.type == "cuda" and torch.cuda.is_bf16_supported()
        # Items never seen in training keep no own embedding (it would be untrained noise): text and KG only.
        warm = torch.ones(data.n_items)
        warm[torch.from_numpy(data.cold_items())] = 0.0
        warm = warm.to(self.device)
        self._warm = warm
        best, best_state, stale = -1.0, copy.deepcopy(network.state_dict()), 0
        started = time.perf_counter()
        for epoch in range(1, config.epochs + 1):
            epoch_started = time.perf_counter()
            network.train()
            sampled_at = time.perf_counter()
            users, positives, negatives = sample_triples(data.train, data.n_items, len(data.train), generator)
            self.sampling_seconds += time.perf_counter() - sampled_at
            losses = []
            for start in range(0, len(users), config.batch_size):
                u = users[start : start + config.batch_size].to(self.device)
                p = positives[start : start + config.batch_size].to(self.device)
                n = negatives[start : start + config.batch_size].to(self.device)
                dropped = torch.rand(data.n_items, generator=generator) < config.id_dropout
                final = network.propagate(adjacency, warm * (~dropped).float().to(self.device))
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    user = final[u]
                    gain = (user * final[data.n_users + p]).sum(1) - (user * final[data.n_users + n]).sum(1)
                    loss = nn.functional.softplus(-gain.float()).mean()
                base = network.layer0()
                reg = (
                    base[u].pow(2).sum()
                    + base[data.n_users + p].pow(2).sum()
                    + base[data.n_users + n].pow(2).sum()
                )
                loss = loss + config.reg * reg / len(u)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            metrics = {"loss": float(np.mean(losses)), "epoch_s": time.perf_counter() - epoch_started}
            if epoch % config.eval_every == 0 or epoch == config.epochs:
                self._freeze(network, adjacency)
                validation = evaluate(self.score, data, split="valid", metrics="ndcg")
                metrics["val_ndcg@20"] = validation.get("ndcg@20", 0.0)
                metrics["val_recall@20"] = validation.get("recall@20", 0.0)
                if metrics["val_ndcg@20"] > best:
                    best, best_state, stale, self.best_epoch = (
                        metrics["val_ndcg@20"],
                        copy.deepcopy(network.state_dict()),
                        0,
                        epoch,
                    )
                else:
                    stale += 1
            if on_epoch:
                on_epoch(epoch, metrics)
            if stale >= config.patience:
                break
        network.load_state_dict(best_state)
        self._freeze(network, adjacency)
        self.train_seconds = time.perf_counter() - started

    @torch.no_grad()
    def _freeze(self, network: _Network, adjacency: torch.Tensor) -> None:
        network.eval()
        final = network.propagate(adjacency, self._warm).float()
        self.user_vectors = final[: network.n_users].cpu()
        self.item_vectors = final[network.n_users : network.n_users + network.n_items].cpu()

    def score(self, users: torch.Tensor) -> torch.Tensor:
        if self.user_vectors is None or self.item_vectors is None:
            raise RuntimeError("KgTextGcn.score called before fit")
        return self.user_vectors[users] @ self.item_vectors.T

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """(user vectors, item vectors) as float32 arrays: score = users @ items.T."""
        if self.user_vectors is None or self.item_vectors is None:
            raise RuntimeError("KgTextGcn.factors called before fit")
        return self.user_vectors.numpy(), self.item_vectors.numpy()
