"""Model registry by name: the baselines and the main graph model, configured from settings."""

from __future__ import annotations

from shopgraph.domain.recsys.api import Recommender
from shopgraph.domain.recsys.baselines import BPRMF, EASE, ItemKNN, Popularity
from shopgraph.domain.recsys.data import RecDataset
from shopgraph.domain.recsys.graph_model import KgTextGcn, KgTextGcnConfig
from shopgraph.recsys.names import MODEL_NAMES, UnknownModelError
from shopgraph.settings import RecsysSettings


def main_model_config(config: RecsysSettings) -> KgTextGcnConfig:
    """The graph model's hyperparameters from the recsys settings."""
    return KgTextGcnConfig(
        dim=config.dim,
        layers=config.layers,
        epochs=config.epochs,
        batch_size=config.graph_batch_size,
        min_steps=config.graph_min_steps,
        lr=config.graph_learning_rate,
        reg=config.reg,
        loss=config.graph_loss,
        negatives=config.graph_negatives,
        item_item=config.item_item,
        item_item_l2=config.item_item_l2,
        recency_tau=config.recency_tau,
        recency_boost=config.recency_boost,
        graph_debias=config.graph_debias,
        cold_neighbours=config.cold_neighbours,
        kg_weight=config.kg_weight,
        text_weight=config.text_weight,
        id_dropout=config.id_dropout,
        cold_scale=config.cold_scale,
        cold_regression=config.cold_regression,
        patience=config.patience,
        seed=config.seed,
        device=config.device,
    )


def make_model(name: str, config: RecsysSettings, data: RecDataset) -> Recommender:
    """A fresh, unfitted model; fails naming the known models for an unknown name."""
    if name == "popularity":
        return Popularity()
    if name == "item_knn":
        return ItemKNN(k=config.knn_neighbours)
    if name == "bpr":
        return BPRMF(
            dim=config.dim,
            epochs=config.epochs,
            lr=config.learning_rate,
            batch_size=config.batch_size,
            patience=config.patience,
            seed=config.seed,
        )
    if name == "ease":
        return EASE(l2=config.ease_l2)
    if name == "kg_text_gcn":
        return KgTextGcn(main_model_config(config))
    raise UnknownModelError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)} or all")
