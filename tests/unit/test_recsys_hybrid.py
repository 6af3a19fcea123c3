"""The graph model's item-item component, sampled softmax loss and calibrated cold-item vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopgraph.domain.recsys.baselines import BPRMF, EASE
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.graph_model import KgTextGcn, KgTextGcnConfig, predict_cold
from shopgraph.recsys.models import main_model_config, make_model
from shopgraph.settings import RecsysSettings

pytestmark = pytest.mark.unit


def groups(seed: int = 0) -> RecDataset:
    """Two user groups over two item halves (the last 2 items of each half cold), item text says the half."""
    rng = np.random.default_rng(seed)
    n_users, n_items, half = 40, 20, 10
    users, items, split = [], [], []
    for user in range(n_users):
        group = user % 2
        warm = rng.choice(np.arange(group * half, group * half + half - 2), 6, replace=False)
        cold = group * half + half - 2 + user % 2
        users += [user] * 7
        items += [*warm.tolist(), cold]
        split += [0] * 4 + [1, 2, 2]
    pairs = Interactions(
        np.array(users), np.array(items), np.ones(len(users), np.float32), np.arange(len(users))
    )
    codes = np.array(split)
    text = np.zeros((n_items, 4), np.float32)
    text[:half, 0] = 1.0
    text[half:, 1] = 1.0
    text += rng.normal(0, 0.05, text.shape).astype(np.float32)
    return RecDataset(
        name="groups",
        split="predefined",
        user_ids=[f"u{u}" for u in range(n_users)],
        item_ids=[f"p{i}" for i in range(n_items)],
        train=pairs.select(codes == 0),
        valid=pairs.select(codes == 1),
        test=pairs.select(codes == 2),
        item_text=text / np.linalg.norm(text, axis=1, keepdims=True),
    )


def test_item_item_component_adds_alpha_times_ease_and_factors_reproduce_scores() -> None:
    data = groups()
    config = KgTextGcnConfig(dim=8, layers=1, epochs=3, batch_size=64, item_item=2.0, item_item_l2=5.0)
    model = KgTextGcn(config)
    model.fit(data)
    ease = EASE(l2=5.0)
    ease.fit(data)
    users = torch.arange(data.n_users)
    assert model.user_vectors is not None and model.item_vectors is not None
    graph_part = model.user_vectors @ model.item_vectors.T
    assert torch.allclose(model.score(users) - graph_part, 2.0 * ease.score(users), atol=1e-5)
    user_factors, item_factors = model.factors()
    assert user_factors.shape == (data.n_users, 8 + data.n_items)
    assert np.allclose(user_factors @ item_factors.T, model.score(users).numpy(), atol=1e-5)


def test_item_item_component_is_off_at_zero_and_above_the_item_limit() -> None:
    data = groups()
    for config in (
        KgTextGcnConfig(dim=8, layers=1, epochs=1, item_item=0.0),
        KgTextGcnConfig(dim=8, layers=1, epochs=1, item_item=1.0, item_item_max_items=data.n_items - 1),
    ):
        model = KgTextGcn(config)
        model.fit(data)
        assert model.item_item_scores is None
        assert model.factors()[0].shape == (data.n_users, 8)


@pytest.mark.parametrize("negatives", [5, 1000])  # sampled, and every item (full softmax)
def test_softmax_loss_learns_the_groups(negatives: int) -> None:
    data = groups()
    config = KgTextGcnConfig(
        dim=8, layers=1, epochs=20, batch_size=64, lr=0.05, loss="softmax", negatives=negatives, patience=20
    )
    model = KgTextGcn(config)
    model.fit(data)
    scores = model.score(torch.arange(data.n_users))
    own_half = torch.zeros_like(scores, dtype=torch.bool)
    own_half[0::2, :8] = True  # group 0 users, warm items of half 0
    own_half[1::2, 10:18] = True
    assert float(scores[own_half].mean()) > float(scores[~own_half].mean()) + 0.5


def test_unknown_loss_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown loss"):
        KgTextGcn(KgTextGcnConfig(loss="hinge")).fit(groups())


def test_predict_cold_maps_content_to_the_warm_items_scale() -> None:
    rng = np.random.default_rng(1)
    content = torch.from_numpy(rng.normal(size=(50, 6)).astype(np.float32))
    mapping = torch.from_numpy(rng.normal(size=(6, 4)).astype(np.float32))
    truth = content @ mapping * 10.0 + 3.0  # final vectors: a linear function of content, large scale
    warm = torch.ones(50, dtype=torch.bool)
    warm[-5:] = False
    items = truth.clone()
    items[~warm] = 0.01  # the raw cold vectors: far too small
    out = predict_cold(items, content, warm, scale=1.0, ridge=1e-6)
    assert torch.equal(out[warm], items[warm])
    assert torch.allclose(out[~warm], truth[~warm], atol=1e-2)
    half = predict_cold(items, content, warm, scale=0.5, ridge=1e-6)
    assert torch.allclose(half[~warm], 0.5 * truth[~warm], atol=1e-2)
    assert torch.equal(predict_cold(items, content, torch.ones(50, dtype=torch.bool), 1.0), items)


def test_cold_regression_lets_cold_items_rank() -> None:
    data = groups()
    base = dict(dim=8, layers=1, epochs=15, batch_size=64, lr=0.05, patience=20, cold_scale=1.0)
    calibrated = KgTextGcn(KgTextGcnConfig(**base, cold_regression=True))  # type: ignore[arg-type]
    calibrated.fit(data)
    assert calibrated.item_vectors is not None
    norms = calibrated.item_vectors.norm(dim=1)
    cold = torch.from_numpy(data.cold_items())
    warm = torch.ones(data.n_items, dtype=torch.bool)
    warm[cold] = False
    # Calibrated cold vectors are on the warm items' scale (not shrunk to a fraction of layer 0).
    assert float(norms[cold].mean()) > 0.3 * float(norms[warm].mean())


def test_settings_reach_the_main_model_and_leave_bpr_alone() -> None:
    settings = RecsysSettings(
        graph_batch_size=512, graph_learning_rate=0.5, item_item=3.0, graph_loss="bpr", cold_regression=False
    )
    config = main_model_config(settings)
    assert (config.batch_size, config.lr, config.item_item, config.loss) == (512, 0.5, 3.0, "bpr")
    assert config.item_item_l2 == settings.item_item_l2 and config.cold_regression is False
    assert config.min_steps == settings.graph_min_steps
    bpr = make_model("bpr", settings, groups())
    assert isinstance(bpr, BPRMF) and bpr.batch_size == settings.batch_size != 512
    assert bpr.lr == settings.learning_rate != 0.5


def test_small_training_sets_get_at_least_min_steps_batches_per_epoch() -> None:
    data = groups()  # 160 training pairs
    small = KgTextGcn(KgTextGcnConfig(dim=8, layers=1, epochs=1, batch_size=8192, min_steps=8))
    small.fit(data)
    assert small.batches.batch_size == 20
    large = KgTextGcn(KgTextGcnConfig(dim=8, layers=1, epochs=1, batch_size=16, min_steps=8))
    large.fit(data)
    assert large.batches.batch_size == 16
