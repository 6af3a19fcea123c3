"""Sentence vectors from token vectors: mean pooling over real tokens, then L2 normalisation."""

from __future__ import annotations

import torch

# The same floors sentence-transformers uses, so that our vectors match its reference exactly.
MIN_TOKEN_COUNT = 1e-9
MIN_NORM = 1e-12


def mean_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(batch, tokens, dim) and a (batch, tokens) 0/1 mask -> (batch, dim) mean of the unmasked tokens.

    Computed in float32 whatever the input dtype; a row with no real token gives a zero vector.
    """
    mask = attention_mask.unsqueeze(-1).to(torch.float32)
    summed = (token_embeddings.to(torch.float32) * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=MIN_TOKEN_COUNT)
    return summed / counts


def normalize_l2(vectors: torch.Tensor) -> torch.Tensor:
    """Each row scaled to unit Euclidean length (zero rows stay zero)."""
    return torch.nn.functional.normalize(vectors, p=2.0, dim=-1, eps=MIN_NORM)


def pool_sentences(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Unit-length sentence vectors: normalize_l2(mean_pool(...))."""
    return normalize_l2(mean_pool(token_embeddings, attention_mask))
