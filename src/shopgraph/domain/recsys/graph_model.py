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

from shopgraph.batching import HalvingBatches
from shopgraph.domain.recsys.api import EpochCallback
from shopgraph.domain.recsys.baselines import EASE
from shopgraph.domain.recsys.data import RecDataset
from shopgraph.domain.recsys.evaluate import evaluate
from shopgraph.domain.recsys.sampling import sample_triples


@dataclass(frozen=True)
class KgTextGcnConfig:
    """Hyperparameters of KgTextGcn; all of them are logged to MLflow."""

    dim: int = 64
    layers: int = 3
    epochs: int = 60
    batch_size: int = 8192
    min_steps: int = 8  # batches per epoch at least: small datasets get smaller batches than batch_size
    lr: float = 3e-3
    lr_decay: float = 1.0  # learning rate multiplied by this after every epoch
    reg: float = 1e-4  # L2 on the layer-0 embeddings of each batch's nodes
    # bpr: one uniform negative per pair; softmax: cross-entropy of the positive against `negatives`
    # uniform items shared by the batch (all items when negatives >= n_items), logits / temperature.
    loss: str = "softmax"
    negatives: int = 4096
    temperature: float = 1.0
    kg_weight: float = 1.0  # scale of the items' mean entity embedding in their layer-0 representation
    text_weight: float = 1.0  # scale of the projected text embedding added to the item's own embedding
    # Share of items whose own embedding is hidden per step: teaches reliance on text and KG.
    id_dropout: float = 0.1
    cold_scale: float = 1.0  # share of its (predicted, see cold_regression) vector a cold item keeps
    # Score a cold item with cold_scale x its final vector predicted from its text/KG vector (predict_cold),
    # calibrated against warm items, instead of cold_scale x its raw layer 0.
    cold_regression: bool = True
    # An item-item component: alpha * (user's training items) @ B, B fitted in closed form (EASE, ridge
    # item_item_l2) before training; the graph part then learns what it misses. 0 (or more items than
    # item_item_max_items, or more user x item cells than ITEM_ITEM_MAX_CELLS) switches it off.
    item_item: float = 2.0
    item_item_l2: float = 500.0
    item_item_max_items: int = 5000
    # The item-item part reads a user's training items weighted 1 + recency_boost * exp(-age / recency_tau),
    # age = how many of the user's training items came later (0: the latest), so the latest ones count
    # most; recency_tau 0 switches it off (every item weighs 1, plain EASE).
    recency_tau: float = 0.0
    recency_boost: float = 5.0
    # Share of the graph part's mean over users (per item: a learnt popularity) removed from its scores, by
    # centring the user vectors: more of each list comes from the user's own taste (catalogue coverage).
    graph_debias: float = 0.0
    # A cold item has no item-item weights: it takes the mean item-item score of its cold_neighbours most
    # similar warm items by content (text + KG part of layer 0, cosine), so it competes with warm items that
    # carry that part; 0 leaves it at 0.
    cold_neighbours: int = 0
    patience: int = 5  # epochs without a better validation NDCG@20 before stopping
    min_epochs: int = 1  # epochs always trained before patience counts (the first ones learn popularity)
    eval_every: int = 1
    seed: int = 0
    device: str = "auto"


LOSSES = ("bpr", "softmax")
ITEM_ITEM_MAX_CELLS = 1 << 26  # users x items scores of the item-item component, kept dense


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


def predict_cold(
    items: torch.Tensor, content: torch.Tensor, warm: torch.Tensor, scale: float, ridge: float = 1e-2
) -> torch.Tensor:
    """items with every cold row (warm False) replaced by scale x a ridge regression, fitted on the warm
    rows, from an item's content vector (text + KG part of layer 0) to its final vector: a cold item then
    scores on the same scale as a warm item with that content. ridge is relative to the mean eigenvalue."""
    cold = ~warm
    if not bool(cold.any()) or int(warm.sum()) < 2:
        return items
    x, y = content[warm].double(), items[warm].double()
    x_mean, y_mean = x.mean(0), y.mean(0)
    x, y = x - x_mean, y - y_mean
    gram = x.T @ x
    gram.diagonal().add_(ridge * float(gram.diagonal().mean()) + 1e-12)
    weights = torch.linalg.solve(gram, x.T @ y)
    out = items.clone()
    predicted = (content[cold].double() - x_mean) @ weights + y_mean
    out[cold] = (scale * predicted).to(items.dtype)
    return out


def recency_weights(users: np.ndarray, times: np.ndarray, tau: float, boost: float) -> np.ndarray:
    """Per pair: 1 + boost * exp(-age / tau), age = the number of the same user's pairs that are later
    (ties in time by row order); all 1 when tau <= 0, and 1 for a pair whose time is unknown (0)."""
    if tau <= 0 or not len(users):
        return np.ones(len(users), np.float32)
    order = np.lexsort((np.arange(len(users)), times, users))
    counts = np.bincount(users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sorted_users = users[order]
    age = np.empty(len(users), np.int64)
    age[order] = counts[sorted_users] - 1 - (np.arange(len(users)) - starts[sorted_users])
    weights = (1.0 + boost * np.exp(-age / tau)).astype(np.float32)
    weights[times <= 0] = 1.0  # e.g. a predefined split without timestamps: no order to weigh by
    return weights


def recency_history(data: RecDataset, tau: float, boost: float) -> torch.Tensor:
    """(users x items) sparse matrix of the training pairs (one per pair) weighted by recency_weights."""
    train = data.train
    weights = recency_weights(train.users, train.times, tau, boost)
    return _sparse(train.users, train.items, weights, (data.n_users, data.n_items))


def cold_mixing(content: torch.Tensor, warm: torch.Tensor, k: int) -> torch.Tensor:
    """(cold items x items) weights: each cold item's k most similar warm items by cosine of content, weighted
    by their (non-negative) similarity, rows summing to 1 (all 0 where no warm item is similar)."""
    unit = content / content.norm(dim=1, keepdim=True).clamp(min=1e-12)
    similarity = unit[~warm] @ unit.T
    similarity[:, ~warm] = -torch.inf
    best = similarity.topk(min(k, int(warm.sum())), dim=1)
    weights = torch.zeros_like(similarity)
    weights.scatter_(1, best.indices, best.values.clamp(min=0))
    return weights / weights.sum(1, keepdim=True).clamp(min=1e-12)


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

    def propagate(
        self, adjacency: torch.Tensor, item_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(final vectors, layer-0 vectors) of [users | items]."""
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
        return torch.where(isolated[:, None], first * self.cold_scale, mean), first


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
        self.item_item_scores: torch.Tensor | None = None  # (users x items) alpha * X B, when used
        # Cold items' item-item scores as mixtures of warm items' (cold_mixing), when used.
        self._cold: torch.Tensor | None = None
        self._cold_mix: torch.Tensor | None = None
        self.batches = HalvingBatches(self.config.batch_size, self.device, "training pairs")

    def params(self) -> dict[str, Any]:
        return {**asdict(self.config), "device": str(self.device)}

    def fit(self, data: RecDataset, on_epoch: EpochCallback | None = None) -> None:
        """Trains on the training pairs (BPR on sampled triples, or sampled softmax on shuffled pairs);
        keeps the epoch of best validation NDCG@20. A step that runs out of device memory is retried
        with the batch halved (for the rest of the run)."""
        config = self.config
        if config.loss not in LOSSES:
            raise ValueError(f"unknown loss {config.loss!r}; choose {' or '.join(LOSSES)}")
        torch.manual_seed(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        network = _Network(data, config).to(self.device)
        adjacency = normalized_adjacency(data).to(self.device)
        optimizer = torch.optim.Adam(network.parameters(), lr=config.lr)
        schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
        batch_size = min(config.batch_size, max(1, -(-len(data.train) // max(config.min_steps, 1))))
        self.batches = HalvingBatches(batch_size, self.device, "training pairs")
        # Items never seen in training keep no own embedding (it would be untrained noise): text and KG only.
        warm = torch.ones(data.n_items)
        warm[torch.from_numpy(data.cold_items())] = 0.0
        warm = warm.to(self.device)
        self._warm = warm
        self.item_item_scores = self._item_item(data)
        train_users = torch.from_numpy(data.train.users).long()
        train_items = torch.from_numpy(data.train.items).long()
        best, best_state, stale = -1.0, copy.deepcopy(network.state_dict()), 0
        started = time.perf_counter()
        for epoch in range(1, config.epochs + 1):
            epoch_started = time.perf_counter()
            network.train()
            sampled_at = time.perf_counter()
            if config.loss == "bpr":
                users, positives, negatives = sample_triples(
                    data.train, data.n_items, len(data.train), generator
                )
            else:
                order = torch.randperm(len(data.train), generator=generator)
                users, positives, negatives = train_users[order], train_items[order], train_items[:0]
            self.sampling_seconds += time.perf_counter() - sampled_at
            loss = self._epoch(network, adjacency, optimizer, data, (users, positives, negatives), generator)
            schedule.step()
            metrics = {"loss": loss, "epoch_s": time.perf_counter() - epoch_started}
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
            if stale >= config.patience and epoch >= config.min_epochs:
                break
        network.load_state_dict(best_state)
        self._freeze(network, adjacency)
        self.train_seconds = time.perf_counter() - started

    def _item_item(self, data: RecDataset) -> torch.Tensor | None:
        """alpha * X B for every user (X: binary training matrix, B: EASE weights), on the device."""
        config = self.config
        usable = data.n_items <= config.item_item_max_items
        if config.item_item <= 0 or not usable or data.n_users * data.n_items > ITEM_ITEM_MAX_CELLS:
            return None
        ease = EASE(l2=config.item_item_l2, device=str(self.device))
        ease.fit(data)
        weights = cast(torch.Tensor, ease.weights)
        history = recency_history(data, config.recency_tau, config.recency_boost)
        scores = torch.sparse.mm(history, weights)
        return (config.item_item * scores).to(self.device)

    def _epoch(
        self,
        network: _Network,
        adjacency: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        data: RecDataset,
        triples: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        generator: torch.Generator,
    ) -> float:
        """One pass over the sampled rows in batches of self.batches.batch_size; the mean batch loss."""
        users, positives, negatives = triples
        losses: list[float] = []

        def step(start: int, size: int) -> int:
            rows = slice(start, start + size)
            loss = self._loss(
                network,
                adjacency,
                data,
                users[rows].to(self.device),
                positives[rows].to(self.device),
                negatives[rows].to(self.device),
                generator,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            return int(users[rows].shape[0])

        self.batches.run(int(users.shape[0]), step)
        return float(np.mean(losses)) if losses else 0.0

    def _loss(
        self,
        network: _Network,
        adjacency: torch.Tensor,
        data: RecDataset,
        users: torch.Tensor,
        positives: torch.Tensor,
        negatives: torch.Tensor,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """One batch's loss plus the L2 penalty on the layer-0 vectors it touches."""
        config, n_u, n_i = self.config, data.n_users, data.n_items
        warm = cast(torch.Tensor, self._warm)  # set by fit before the first step
        dropped = torch.rand(n_i, generator=generator) < config.id_dropout
        final, first = network.propagate(adjacency, warm * (~dropped).float().to(self.device))
        use_bf16 = self.device.type == "cuda" and torch.cuda.is_bf16_supported()
        extra = self.item_item_scores
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            user = final[users]
            positive = (user * final[n_u + positives]).sum(1).float()
            if extra is not None:
                positive = positive + extra[users, positives]
            if config.loss == "bpr":
                negative = (user * final[n_u + negatives]).sum(1).float()
                if extra is not None:
                    negative = negative + extra[users, negatives]
                loss = nn.functional.softplus(negative - positive).mean()
                touched = [users, n_u + positives, n_u + negatives]
            elif config.negatives >= n_i:
                logits = (user @ final[n_u:].T).float()
                if extra is not None:
                    logits = logits + extra[users]
                loss = nn.functional.cross_entropy(logits / config.temperature, positives)
                touched = [users, n_u + positives]
            else:
                shared = torch.randint(n_i, (config.negatives,), generator=generator).to(self.device)
                negative = (user @ final[n_u + shared].T).float()
                if extra is not None:
                    negative = negative + extra[users[:, None], shared[None, :]]
                # A shared negative that is the row's own positive is not a negative for that row.
                negative = negative.masked_fill(shared[None, :] == positives[:, None], -torch.inf)
                logits = torch.cat([positive[:, None], negative], 1) / config.temperature
                target = torch.zeros(users.shape[0], dtype=torch.long, device=self.device)
                loss = nn.functional.cross_entropy(logits, target)
                touched = [users, n_u + positives]
        reg = sum(first[nodes].pow(2).sum() for nodes in touched)
        return loss + config.reg * reg / max(int(users.shape[0]), 1)

    @torch.no_grad()
    def _freeze(self, network: _Network, adjacency: torch.Tensor) -> None:
        network.eval()
        final = network.propagate(adjacency, self._warm)[0].float()
        items = final[network.n_users :]
        if self._warm is not None:
            content = network.layer0(torch.zeros_like(self._warm))[network.n_users :].float()
            warm = self._warm > 0
            if self.config.cold_regression:
                items = predict_cold(items, content, warm, self.config.cold_scale)
            use_mix = self.config.cold_neighbours > 0 and self.item_item_scores is not None
            if use_mix and bool((~warm).any()) and bool(warm.any()):
                self._cold = torch.nonzero(~warm).squeeze(1).cpu()
                self._cold_mix = cold_mixing(content, warm, self.config.cold_neighbours).cpu()
        users = final[: network.n_users]
        if self.config.graph_debias:
            # Centring the users removes debias x each item's mean score over users from every score.
            known = ~cast(torch.Tensor, network.isolated)[: network.n_users]
            if bool(known.any()):
                users = users - self.config.graph_debias * users[known].mean(0)
        self.user_vectors = users.cpu()
        self.item_vectors = items.cpu()

    def score(self, users: torch.Tensor) -> torch.Tensor:
        if self.user_vectors is None or self.item_vectors is None:
            raise RuntimeError("KgTextGcn.score called before fit")
        users = users.long().cpu()
        scores = self.user_vectors[users] @ self.item_vectors.T
        if self.item_item_scores is not None:
            scores = scores + self._with_cold(
                self.item_item_scores[users.to(self.item_item_scores.device)].cpu()
            )
        return scores

    def _with_cold(self, extra: torch.Tensor) -> torch.Tensor:
        """Item-item score rows with each cold item's column set from its warm neighbours' (cold_mixing)."""
        if self._cold is None or self._cold_mix is None:
            return extra
        extra = extra.float().clone()
        extra[:, self._cold] = extra @ self._cold_mix.T
        return extra

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """(user vectors, item vectors) as float32 arrays: score = users @ items.T (with the item-item
        component, users carry its score row and items an identity block)."""
        if self.user_vectors is None or self.item_vectors is None:
            raise RuntimeError("KgTextGcn.factors called before fit")
        users, items = self.user_vectors.numpy(), self.item_vectors.numpy()
        if self.item_item_scores is None:
            return users, items
        # The item-item part as one more block: each user's score row against an identity per item.
        extra = self.item_item_scores.float().cpu().numpy()
        identity = np.eye(items.shape[0], dtype=np.float32)
        if self._cold is not None and self._cold_mix is not None:
            identity[self._cold.numpy()] = self._cold_mix.numpy()  # zero on cold columns, so no overlap
        return np.hstack([users, extra]), np.hstack([items, identity])
