"""Padding-aware batching: texts of similar token length share a batch."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


def token_lengths(tokenizer: Any, texts: Sequence[str]) -> tuple[np.ndarray, int]:
    """Real token counts (the tokenizer pads a batch, so count the attention mask), and how
    many texts the model's window truncates."""
    encodings = tokenizer.encode_batch(list(texts))
    return (np.array([sum(e.attention_mask) for e in encodings]),
            sum(1 for e in encodings if e.overflowing))


def length_order(lengths: Sequence[int]) -> np.ndarray:
    return np.argsort(np.asarray(lengths), kind="stable")


def padded_tokens(lengths: Sequence[int], order: Sequence[int], batch_size: int) -> int:
    """Tokens the model processes when `order` is cut into batches of `batch_size`."""
    lengths = np.asarray(lengths)[np.asarray(order, dtype=int)]
    return int(sum(
        lengths[i:i + batch_size].max() * len(lengths[i:i + batch_size])
        for i in range(0, len(lengths), batch_size)
    ))


def embed_in_order(
    embed: Callable[[list[str]], list[Any]], texts: Sequence[str], order: np.ndarray
) -> list[Any]:
    """Embed `texts` in `order` (so batches are cut from sorted texts); return input order."""
    sorted_out = embed([texts[i] for i in order])
    out: list[Any] = [None] * len(texts)
    for pos, i in enumerate(order):
        out[i] = sorted_out[pos]
    return out
