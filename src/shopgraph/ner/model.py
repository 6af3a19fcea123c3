"""Token-classification models: loading, sub-token encoding of word lists, batched word-level prediction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer, PreTrainedTokenizerBase

from shopgraph.adapters.model_source import autocast_dtype
from shopgraph.batching import HalvingBatches
from shopgraph.domain.ner.tags import IGNORE_INDEX, OUTSIDE, align_labels, first_subtoken_positions

META_FILE = "shopgraph_ner.json"
Progress = Callable[[int, int], None]


@dataclass
class NerModel:
    """A token-classification model with its tokenizer, tag names and maximum sequence length."""

    model: Any
    tokenizer: PreTrainedTokenizerBase
    labels: list[str]
    max_length: int
    device: torch.device

    @property
    def label_ids(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.labels)}


def new_model(source: str, labels: list[str], max_length: int, device: torch.device) -> NerModel:
    """A pretrained encoder with a new, randomly initialised token-classification head for labels."""
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForTokenClassification.from_pretrained(
        source,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: index for index, name in enumerate(labels)},
        ignore_mismatched_sizes=True,
    )
    return NerModel(model.to(device), tokenizer, labels, max_length, device)


def load_model(folder: Path, device: torch.device) -> NerModel:
    """A model saved by save_model (or any token-classification folder with id2label in its config)."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForTokenClassification.from_pretrained(folder)
    labels = [model.config.id2label[index] for index in range(model.config.num_labels)]
    meta_path = folder / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    max_length = int(
        meta.get("max_length", tokenizer.model_max_length if tokenizer.model_max_length < 10**6 else 128)
    )
    return NerModel(model.to(device).eval(), tokenizer, labels, max_length, device)


def save_model(ner: NerModel, folder: Path, meta: dict[str, Any]) -> Path:
    """Write weights, tokenizer and a small JSON of training facts (max_length, types, base model)."""
    folder.mkdir(parents=True, exist_ok=True)
    ner.model.save_pretrained(folder)
    ner.tokenizer.save_pretrained(folder)
    (folder / META_FILE).write_text(
        json.dumps({"max_length": ner.max_length, **meta}, indent=2, sort_keys=True)
    )
    return folder


def autocast(device: torch.device) -> AbstractContextManager[Any]:
    """bf16 autocast on CUDA, nothing elsewhere."""
    dtype = autocast_dtype(device)
    return torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None else nullcontext()


def encode(ner: NerModel, words: Sequence[str], tag_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """Sub-token ids of one word list (truncated to max_length), word_ids, and aligned labels if given."""
    encoding = ner.tokenizer(
        list(words), is_split_into_words=True, truncation=True, max_length=ner.max_length
    )
    word_ids = encoding.word_ids()
    encoded: dict[str, Any] = {"input_ids": encoding["input_ids"], "word_ids": word_ids}
    if tag_ids is not None:
        encoded["labels"] = align_labels(word_ids, tag_ids)
    return encoded


def pad_batch(items: Sequence[dict[str, Any]], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Right-pad a batch to its longest item: input_ids, attention_mask and labels (when present)."""
    width = max(len(item["input_ids"]) for item in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE_INDEX, dtype=torch.long)
    for row, item in enumerate(items):
        size = len(item["input_ids"])
        ids[row, :size] = torch.tensor(item["input_ids"])
        mask[row, :size] = 1
        if "labels" in item:
            labels[row, :size] = torch.tensor(item["labels"])
    batch = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
    if "labels" in items[0]:
        batch["labels"] = labels.to(device)
    return batch


def _word_tags(
    ner: NerModel, encoded: dict[str, Any], words: int, best_id: list[int], best_prob: list[float]
) -> tuple[list[str], list[float]]:
    positions = first_subtoken_positions(encoded["word_ids"])
    tags, confidences = [], []
    for word in range(words):
        position = positions.get(word)
        if position is None:
            tags.append(OUTSIDE)
            confidences.append(0.0)
        else:
            tags.append(ner.labels[best_id[position]])
            confidences.append(float(best_prob[position]))
    return tags, confidences


def predict_tags(
    ner: NerModel,
    word_lists: Sequence[Sequence[str]],
    batch_size: int,
    progress: Progress | None = None,
    batches: HalvingBatches | None = None,
) -> list[tuple[list[str], list[float]]]:
    """Per text: one tag per word (from its first sub-token; 'O' past truncation) and that tag's probability.

    Texts are sorted by length (longest first) and padded per batch; runs under inference_mode and bf16
    autocast on CUDA.
    On out-of-memory the batch size halves and goes on (`batches`, shared across calls to keep it halved).
    """
    batches = batches or HalvingBatches(batch_size, ner.device, "texts")
    encoded = [encode(ner, words) for words in word_lists]
    # Longest first: an out-of-memory batch shows up at the start, not after most of the work.
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]["input_ids"]))
    results: list[tuple[list[str], list[float]]] = [([], []) for _ in encoded]
    pad_id = int(ner.tokenizer.pad_token_id or 0)
    ner.model.eval()

    def step(begin: int, size: int) -> int:
        chunk = order[begin : begin + size]
        batch = pad_batch([encoded[i] for i in chunk], pad_id, ner.device)
        with autocast(ner.device):
            logits = ner.model(**batch).logits
        top_prob, top_id = torch.softmax(logits.float(), dim=-1).max(dim=-1)
        best_prob, best_id = top_prob.cpu().tolist(), top_id.cpu().tolist()
        for row, index in enumerate(chunk):
            words = len(word_lists[index])
            results[index] = _word_tags(ner, encoded[index], words, best_id[row], best_prob[row])
        if progress is not None:
            progress(begin + len(chunk), len(order))
        return len(chunk)

    with torch.inference_mode():
        batches.run(len(order), step)
    return results


PREDICTED_SCHEMA_COLUMNS = ("key", "field", "start", "end", "type", "text", "confidence")


def predict_spans(
    ner: NerModel,
    examples: Sequence[Any],
    batch_size: int,
    progress: Progress | None = None,
    batches: HalvingBatches | None = None,
) -> list[tuple[str, str, int, int, str, str, float]]:
    """Entity spans of TextExample-like items (key, field, text, words): (key, field, start, end, type, text,
    confidence), the confidence being the mean tag probability over the span's words."""
    from shopgraph.domain.ner.tags import tag_spans

    word_lists = [[w.text for w in ex.words] for ex in examples]
    predictions = predict_tags(ner, word_lists, batch_size, progress, batches)
    rows: list[tuple[str, str, int, int, str, str, float]] = []
    for example, (tags, confidences) in zip(examples, predictions, strict=True):
        for span in tag_spans(tags):
            start, end = example.words[span.first].start, example.words[span.last - 1].end
            confidence = sum(confidences[span.first : span.last]) / (span.last - span.first)
            rows.append(
                (example.key, example.field, start, end, span.type, example.text[start:end], confidence)
            )
    return rows
