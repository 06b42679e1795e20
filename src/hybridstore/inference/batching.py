"""Padding-aware batching: texts of similar token length share a batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tokenizers import Tokenizer

Lengths = npt.NDArray[np.int_]  # token counts, or positions, one per text
Ints = Sequence[int] | Lengths


def token_lengths(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[Lengths, int]:
    """Real token counts (the tokenizer pads a batch, so count the attention mask), and how
    many texts the model's window truncates."""
    encodings = tokenizer.encode_batch(list(texts))
    return (np.array([sum(e.attention_mask) for e in encodings]),
            sum(1 for e in encodings if e.overflowing))


def length_order(lengths: Ints) -> Lengths:
    return np.argsort(np.asarray(lengths), kind="stable")


def padded_tokens(lengths: Ints, order: Ints, batch_size: int) -> int:
    """Tokens the model processes when `order` is cut into batches of `batch_size`."""
    ordered = np.asarray(lengths)[np.asarray(order, dtype=int)]
    return int(sum(
        ordered[i:i + batch_size].max() * len(ordered[i:i + batch_size])
        for i in range(0, len(ordered), batch_size)
    ))


def token_batches(lengths: Ints, order: Ints, batch_size: int,
                  max_tokens: int) -> list[list[int]]:
    """Cut `order` (shortest first) into batches of at most `batch_size` texts and at most
    `max_tokens` padded tokens: short texts share big batches, long ones small batches, so
    the model's activations (and the process's peak memory) stay bounded."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in map(int, order):
        if current and (len(current) >= batch_size or (len(current) + 1) * lengths[i] > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def embed_in_order(
    embed: Callable[[list[str]], list[Any]], texts: Sequence[str], batches: list[list[int]],
) -> list[Any]:
    """One `embed` call per batch of text positions (cut from length-sorted texts by
    `token_batches`); results in input order."""
    out: list[Any] = [None] * len(texts)
    for batch in batches:
        for i, vector in zip(batch, embed([texts[i] for i in batch]), strict=True):
            out[i] = vector
    return out
