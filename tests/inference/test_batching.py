"""The inference layer without models: padding-aware batches, input order kept, and the files
a model's fingerprint reads."""

import numpy as np

from hybridstore.inference.batching import embed_in_order, length_order, padded_tokens, token_batches
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
