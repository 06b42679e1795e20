"""One model of one kind: lazy loading, document vs query embedding, padding-aware batches."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelNotFoundError, TruncationWarning
from . import loading
from .batching import Ints, embed_in_order, length_order, token_batches, token_lengths
from .fingerprint import fingerprint, model_files, vector_options
from .specs import ModelSpec

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# one embedding call: texts and a batch size in, one vector per text out (numpy or sparse)
EmbedCall = Callable[[list[str], int], list[Any]]

DEFAULT_BATCH_SIZE = 32
DEFAULT_BATCH_TOKENS = 4096  # padded tokens per batch: 8 texts of 512 tokens, 32 of 128


class Embedder:
    """Embeds texts with one fastembed model; outputs are native (numpy / SparseEmbedding)."""

    def __init__(self, spec: ModelSpec, modifier: str | None = None, hint: str = "",
                 hub: bool = True) -> None:
        self.spec = spec
        self.hint = hint
        self.hub = hub  # False with a pack: never download
        self.kind = spec.kind
        self.name = spec.name
        self.modifier = modifier
        self._dim: int | None = None
        self._dim_lock = threading.Lock()

    @property
    def model(self) -> Any:
        try:
            return loading.load(self.spec, self.hub)
        except ModelNotFoundError as e:
            raise ModelNotFoundError(f"{e} {self.hint}".strip()) from e.__cause__

    @property
    def dim(self) -> int | None:
        """Vector (or per-token) size, from a real embedding; None for sparse models."""
        if self.kind == "sparse":
            return None
        with self._dim_lock:
            if self._dim is None:
                self._dim = int(np.asarray(self.embed_documents(["dimension probe"])[0]).shape[-1])
        return self._dim

    def embed_documents(self, texts: Sequence[str], padding_aware: bool | None = None) -> list[Any]:
        if not texts:
            return []
        opts = self.spec.options
        aware = opts.get("padding_aware", True) if padding_aware is None else padding_aware
        model = self.model

        def embed(batch: list[str], size: int) -> list[Any]:
            return list(model.embed(batch, batch_size=size, parallel=opts.get("parallel")))

        return self._embed(embed, texts, aware and not opts.get("parallel"))

    def embed_queries(self, texts: Sequence[str]) -> list[Any]:
        model = self.model

        def embed(batch: list[str], size: int) -> list[Any]:
            return list(model.query_embed(batch, batch_size=size))

        return self._embed(embed, texts, True)

    def _embed(self, embed: EmbedCall, texts: Sequence[str], aware: bool) -> list[Any]:
        """Padding-aware: texts sorted by token length, cut into batches of at most
        `batch_size` texts and `max_batch_tokens` padded tokens, results in input order."""
        batch_size = int(self.spec.options.get("batch_size") or DEFAULT_BATCH_SIZE)
        tokenizer = self.tokenizer()
        if tokenizer is None or _fits(tokenizer, texts):  # nothing to sort, nothing truncated
            return embed(list(texts), batch_size)
        lengths, cut = token_lengths(tokenizer, texts)
        if cut:
            window: int | str = tokenizer.truncation["max_length"] if tokenizer.truncation else "its"
            warnings.warn(TruncationWarning(
                f"{cut} of {len(texts)} texts are longer than the {window}-token window of "
                f"{self.kind} model {self.name!r}: only their beginning is embedded (the whole "
                "text is stored). Split long texts first, e.g. with hybridstore.chunking.",
                model=self.name, kind=self.kind, count=cut, total=len(texts), window=window,
            ), stacklevel=4)
        if not aware or len(texts) <= 1:
            return embed(list(texts), batch_size)
        return embed_in_order(lambda batch: embed(batch, len(batch)), texts, self._cut(lengths))

    def batches(self, texts: Sequence[str]) -> list[list[int]] | None:
        """How this model cuts `texts` into batches (positions, shortest first); None when
        it pads nothing (BM25)."""
        tokenizer = self.tokenizer()
        return None if tokenizer is None else self._cut(token_lengths(tokenizer, texts)[0])

    def _cut(self, lengths: Ints) -> list[list[int]]:
        batch_size = int(self.spec.options.get("batch_size") or DEFAULT_BATCH_SIZE)
        max_tokens = int(self.spec.options.get("max_batch_tokens") or DEFAULT_BATCH_TOKENS)
        return token_batches(lengths, length_order(lengths), batch_size, max_tokens)

    def embed_query(self, text: str) -> Any:
        return self.embed_queries([text])[0]

    def tokenizer(self) -> Tokenizer | None:
        """The model's tokenizer (loads the model), or None when nothing is padded."""
        inner = getattr(self.model, "model", None)
        if inner is None or not hasattr(inner, "_ensure_tokenizer"):
            return None  # e.g. BM25: no neural tokenizer, nothing padded
        inner._ensure_tokenizer()
        tokenizer: Tokenizer = inner.tokenizer
        return tokenizer

    def describe(self) -> dict[str, Any]:
        out = {"name": self.name, "kind": self.kind, "path": self.spec.path, "modifier": self.modifier}
        return {**out, "quantize": self.spec.options["quantize"]} if self.spec.options.get("quantize") else out

    def signature(self) -> dict[str, Any]:
        """What makes this model's vectors (loads the model): stored with the collection."""
        folder, files = model_files(getattr(self.model, "model", None))
        return {"source": "fastembed", "kind": self.kind, "model": self.name, "dim": self.dim,
                "modifier": self.modifier,
                "options": vector_options({**self.spec.load_options(),
                                           **{k: v for k, v in self.spec.options.items() if k == "quantize"}}),
                "fingerprint": fingerprint(folder, files) if folder is not None and files else None}


def floats(vector: Sequence[float] | npt.NDArray[Any]) -> list[float]:
    """A vector as plain Python floats (what the frameworks' embedding interfaces return)."""
    return [float(x) for x in (vector.tolist() if isinstance(vector, np.ndarray) else vector)]


def _fits(tokenizer: Tokenizer, texts: Sequence[str]) -> bool:
    """One text too short to reach the model's window, so not tokenized twice (a query's path):
    no tokenizer (WordPiece, BPE, SentencePiece with byte fallback) makes more tokens than its
    normalized text (NFKC can lengthen it) has UTF-8 bytes, plus a few for the special tokens
    and a leading word marker."""
    window: int | None = tokenizer.truncation["max_length"] if tokenizer.truncation else None
    if len(texts) != 1 or window is None or len(texts[0]) + 8 > window:
        return False
    text = tokenizer.normalizer.normalize_str(texts[0]) if tokenizer.normalizer else texts[0]
    return len(text.encode("utf-8", "surrogatepass")) + 8 <= window
