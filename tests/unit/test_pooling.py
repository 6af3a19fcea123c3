"""Mean pooling and L2 normalisation equal independent reference implementations."""

from __future__ import annotations

import math

import pytest
import torch

from shopgraph.domain.pooling import mean_pool, normalize_l2, pool_sentences

pytestmark = pytest.mark.unit


def _loop_reference(tokens: torch.Tensor, mask: torch.Tensor) -> list[list[float]]:
    """Plain Python: average the vectors of real tokens, then divide by the Euclidean norm."""
    rows = []
    for row in range(tokens.shape[0]):
        real = [tokens[row, t].tolist() for t in range(tokens.shape[1]) if mask[row, t] == 1]
        mean = [sum(values) / len(real) for values in zip(*real, strict=True)]
        norm = math.sqrt(sum(value * value for value in mean))
        rows.append([value / norm for value in mean])
    return rows


@pytest.fixture()
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    tokens = torch.randn(4, 6, 5, generator=generator, dtype=torch.float64)
    mask = torch.tensor(
        [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1]], dtype=torch.int64
    )
    return tokens, mask


def test_pooling_equals_loop_reference(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    tokens, mask = batch
    expected = torch.tensor(_loop_reference(tokens, mask), dtype=torch.float32)
    torch.testing.assert_close(pool_sentences(tokens, mask), expected, rtol=1e-6, atol=1e-6)


def test_pooling_equals_sentence_transformers(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    models = pytest.importorskip("sentence_transformers.models")
    tokens, mask = batch
    tokens = tokens.to(torch.float32)
    pooled = models.Pooling(5, pooling_mode="mean")({"token_embeddings": tokens, "attention_mask": mask})
    expected = models.Normalize()(pooled)["sentence_embedding"]
    torch.testing.assert_close(pool_sentences(tokens, mask), expected, rtol=1e-6, atol=1e-7)


def test_padding_does_not_change_the_vector(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    tokens, mask = batch
    padded = torch.cat([tokens, torch.full((4, 3, 5), 99.0, dtype=tokens.dtype)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros((4, 3), dtype=mask.dtype)], dim=1)
    torch.testing.assert_close(pool_sentences(padded, padded_mask), pool_sentences(tokens, mask))


def test_vectors_have_unit_length_and_bf16_input_pools_in_float32(
    batch: tuple[torch.Tensor, torch.Tensor],
) -> None:
    tokens, mask = batch
    pooled = pool_sentences(tokens.to(torch.bfloat16), mask)
    assert pooled.dtype == torch.float32
    torch.testing.assert_close(pooled.norm(dim=1), torch.ones(4), rtol=1e-6, atol=1e-6)


def test_row_without_real_tokens_gives_zeros_not_nan() -> None:
    tokens = torch.ones(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [0, 0, 0]])
    pooled = pool_sentences(tokens, mask)
    assert not torch.isnan(pooled).any()
    assert torch.equal(pooled[1], torch.zeros(4))
    torch.testing.assert_close(mean_pool(tokens, mask)[0], torch.ones(4))


def test_normalize_keeps_direction() -> None:
    vectors = torch.tensor([[3.0, 4.0], [0.0, -2.0]])
    torch.testing.assert_close(normalize_l2(vectors), torch.tensor([[0.6, 0.8], [0.0, -1.0]]))
