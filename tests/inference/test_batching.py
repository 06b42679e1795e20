"""The inference layer without models: padding-aware batches, input order kept, and the files
a model's fingerprint reads."""

import numpy as np

from hybridstore.inference.batching import (
    embed_in_order,
    length_order,
    padded_tokens,
    token_batches,
)
from hybridstore.inference.fingerprint import model_files, vector_options

from ..conftest import PACK


def test_batches_are_cut_by_count_and_padded_tokens_shortest_first():
    lengths = np.array([5, 500, 7, 6, 480, 9])
    order = length_order(lengths)
    assert list(order) == [0, 3, 2, 5, 4, 1]
    batches = token_batches(lengths, order, batch_size=3, max_tokens=1000)
    assert batches == [[0, 3, 2], [5, 4], [1]]  # 3 * 480 tokens would pass the budget
    assert padded_tokens(lengths, order, 3) < padded_tokens(lengths, range(6), 3)


def test_results_come_back_in_input_order():
    texts = ["ccc", "a", "bb"]
    out = embed_in_order(lambda batch: [t.upper() for t in batch], texts, [[1], [2, 0]])
    assert out == ["CCC", "A", "BB"]


def test_fingerprinted_files_are_those_that_decide_the_vectors():
    class Description:
        model_file, additional_files = "model.onnx", []

    class Inner:
        _model_dir, model_description = PACK / "all-minilm-l6-v2", Description()

    folder, files = model_files(Inner())
    assert folder == PACK / "all-minilm-l6-v2"
    assert {f.name for f in files} >= {"model.onnx", "tokenizer.json", "config.json", "vocab.txt"}
    assert model_files(object()) == (None, [])
    assert vector_options({"threads": 2, "providers": ["x"], "k": 1.2, "cache_dir": "/c"}) == {"k": 1.2}


# -- a query short enough is not tokenized twice -------------------------------------------------
def _window(tokenizer, tokens: int):
    tokenizer.enable_truncation(max_length=tokens)
    return tokenizer


def _byte_level():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    bpe = Tokenizer(models.BPE({c: i for i, c in enumerate(sorted(alphabet))}, merges=[]))
    bpe.pre_tokenizer, bpe.decoder = pre_tokenizers.ByteLevel(add_prefix_space=True), decoders.ByteLevel()
    return bpe


def _unigram_byte_fallback(nfkc: bool = False):
    """SentencePiece-like; with NFKC as XLM-R models (multilingual e5) normalize."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = [("<unk>", 0.0), ("▁", -1.0), ("a", -2.0)] + [(f"<0x{b:02X}>", -5.0) for b in range(256)]
    sp = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=True))
    sp.pre_tokenizer = pre_tokenizers.Metaspace()
    if nfkc:
        sp.normalizer = normalizers.NFKC()
    return sp


def test_a_text_said_to_fit_is_never_truncated_by_any_tokenizer_kind():
    """`_fits` skips the tokenizer for one short text: if it says a text fits, no tokenizer
    (the pack's WordPiece ones with their special tokens, byte-level BPE, SentencePiece with
    byte fallback) may truncate it, whatever the script."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from tokenizers import Tokenizer

    from hybridstore.inference.embedder import _fits

    window = 24
    tokenizers = [_window(Tokenizer.from_file(str(PACK / m / "tokenizer.json")), window)
                  for m in ("all-minilm-l6-v2", "colbert-minilm-l6", "splade-tiny", "bm42-minilm-l6")]
    tokenizers += [_window(_byte_level(), window), _window(_unigram_byte_fallback(), window),
                   _window(_unigram_byte_fallback(nfkc=True), window)]
    tight = ["a" * 16, "é" * 8, "😀" * 4, "漢字aa", "\u0301" * 8, " a" * 8, "a.b-c,d" * 2 + "!"]

    def check(text: str) -> None:
        for tokenizer in tokenizers:
            if _fits(tokenizer, [text]):
                encoding = tokenizer.encode(text)
                assert not encoding.overflowing, (text, tokenizer.model)
                assert sum(encoding.attention_mask) <= window  # padding aside

    for text in tight:
        assert _fits(tokenizers[0], [text]), text  # at the bound: the check is not vacuous
        check(text)
    assert not _fits(tokenizers[0], ["a" * 17]) and not _fits(tokenizers[0], ["a", "b"])
    assert not _fits(tokenizers[-1], ["ﷺ"])  # 3 bytes, 18 characters once NFKC-normalized
    check("ﷺ")
    given(st.text(max_size=20))(settings(max_examples=300, deadline=None)(check))()
