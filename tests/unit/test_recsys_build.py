"""Dataset builder: pair weights, item universe, entity edges, text matrix and splits from export frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from shopgraph.domain.recsys.build import DatasetConfig, DatasetError, build_dataset, pair_weights

pytestmark = pytest.mark.unit
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def interactions(rows: list[tuple[str, str, str, int, int]]) -> pl.DataFrame:
    """rows: user, product, interaction type, count, minutes after T0."""
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "product_id": [r[1] for r in rows],
            "interaction": [r[2] for r in rows],
            "count": [r[3] for r in rows],
            "first_at": [T0 + timedelta(minutes=r[4]) for r in rows],
        },
        schema_overrides={"first_at": pl.Datetime("us", "UTC")},
    )


def shop_frames() -> dict[str, pl.DataFrame]:
    rows = []
    for user in range(6):
        for step, item in enumerate((user % 3, user % 3 + 3, (user + 1) % 6, (user + 2) % 6)):
            rows.append((f"u{user}", f"p{item}", "VIEWED", 1, step * 10 + user))
    rows.append(("u0", "p0", "PURCHASED", 2, 1))
    return {
        "interactions": interactions(rows),
        "products": pl.DataFrame({"product_id": [f"p{i}" for i in range(8)], "active": [True] * 7 + [False]}),
        "item_brands": pl.DataFrame({"product_id": ["p0", "p1", "p6"], "brand": ["acme", "acme", "zeta"]}),
        "item_categories": pl.DataFrame(
            {"product_id": ["p0", "p6"], "category_path": ["shoes/boots", "shoes"]}
        ),
        "category_parents": pl.DataFrame({"category_path": ["shoes/boots"], "parent_path": ["shoes"]}),
        "item_attributes": pl.DataFrame(
            {
                "product_id": ["p2"],
                "type": ["colour"],
                "value": ["red"],
                "source": ["catalog"],
                "confidence": [1.0],
            }
        ),
        "item_entities": pl.DataFrame({"product_id": ["p3"], "entity_id": ["m.1"]}),
        "kg_triples": pl.DataFrame({"head_id": ["m.1"], "relation": ["film.actor"], "tail_id": ["m.2"]}),
    }


def test_pair_weights_sum_types_and_take_first_time() -> None:
    frame = interactions(
        [("u", "p", "VIEWED", 3, 5), ("u", "p", "PURCHASED", 1, 2), ("u", "p", "UNKNOWN", 9, 0)]
    )
    pairs = pair_weights(frame, {"VIEWED": 1.0, "PURCHASED": 5.0})
    assert pairs.height == 1
    assert pairs["weight"][0] == pytest.approx(np.log1p(3) + 5 * np.log1p(1))
    assert pairs["time"][0] == int((T0 + timedelta(minutes=2)).timestamp())


def test_build_encodes_items_entities_and_splits_without_leakage() -> None:
    data = build_dataset(
        shop_frames(), DatasetConfig(split="time", valid_share=0.2, test_share=0.2), name="t"
    )
    assert data.user_ids == [f"u{i}" for i in range(6)]
    assert data.item_ids == [f"p{i}" for i in range(7)]  # inactive p7 has no interaction: left out
    train = set(zip(data.train.users.tolist(), data.train.items.tolist(), strict=True))
    for part in (data.valid, data.test):
        assert not train & set(zip(part.users.tolist(), part.items.tolist(), strict=True))
    assert len(data.train) + len(data.valid) + len(data.test) <= 24
    assert data.test.times.min() >= data.train.times.max()
    edges = {(data.item_ids[i], data.entity_ids[e]) for i, e in data.item_entities.tolist()}
    assert ("p0", "category:shoes") in edges and ("p0", "category:shoes/boots") in edges
    assert ("p0", "brand:acme") in edges and ("p1", "brand:acme") in edges
    assert ("p2", "attr:colour=red") in edges and ("p3", "kg:m.1") in edges
    head, relation, tail = data.kg_triples[0]
    assert (data.entity_ids[head], data.relation_ids[relation], data.entity_ids[tail]) == (
        "kg:m.1",
        "film.actor",
        "kg:m.2",
    )
    assert 6 in data.cold_items().tolist()  # p6: active, never interacted with


def test_text_matrix_is_normalised_with_zero_rows_for_missing() -> None:
    embeddings = pl.DataFrame({"product_id": ["p1", "p9"], "embedding": [[3.0, 4.0], [1.0, 0.0]]})
    data = build_dataset(shop_frames(), DatasetConfig(), name="t", embeddings=embeddings)
    assert data.item_text is not None and data.item_text.shape == (7, 2)
    np.testing.assert_allclose(data.item_text[1], [0.6, 0.8], rtol=1e-6)
    assert not data.item_text[0].any()


def test_predefined_split_is_kept() -> None:
    frames = shop_frames()
    frames["predefined_split"] = pl.DataFrame(
        {"user_id": ["u0", "u1"], "product_id": ["p3", "p4"], "split": ["test", "test"]}
    )
    data = build_dataset(frames, DatasetConfig(split="predefined"), name="t")
    test = {
        (data.user_ids[u], data.item_ids[i]) for u, i in zip(data.test.users, data.test.items, strict=True)
    }
    assert test == {("u0", "p3"), ("u1", "p4")}


def test_min_weight_and_min_user_pairs_filter() -> None:
    data = build_dataset(shop_frames(), DatasetConfig(min_weight=2.0, min_user_pairs=1), name="t")
    assert data.user_ids == ["u0"]  # only u0's purchase weighs 2 or more


def test_missing_interactions_is_a_clear_error() -> None:
    with pytest.raises(DatasetError, match="t: the interactions table is missing"):
        build_dataset({}, DatasetConfig(), name="t")


def test_inactive_products_with_history_stay_for_training_but_are_marked() -> None:
    frames = shop_frames()
    frames["products"] = frames["products"].with_columns(
        pl.col("product_id").is_in(["p0", "p7"]).not_().alias("active")
    )
    data = build_dataset(frames, DatasetConfig(), name="t")
    assert "p0" in data.item_ids and "p7" not in data.item_ids
    assert data.inactive_items.tolist() == [data.item_ids.index("p0")]
