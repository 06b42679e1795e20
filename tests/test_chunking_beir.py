import pytest

from hybridstore.beir import ndcg_at, recall_at
from hybridstore.chunking import chunk_text
from hybridstore.inference.batching import embed_in_order, length_order, padded_tokens


def test_chunks_pack_paragraphs_and_cut_long_ones():
    text = "para one.\n\npara two.\n\n" + " ".join(f"word{i}" for i in range(400))
    chunks = chunk_text(text, size=200, overlap=20)
    assert chunks[0] == "para one.\n\npara two."
    assert all(len(c) <= 200 for c in chunks)
    words = " ".join(chunks[1:]).split()
    assert {f"word{i}" for i in range(400)} <= set(words)  # nothing lost
    assert chunk_text("short") == ["short"] and chunk_text("  \n\n ") == []
    with pytest.raises(ValueError):
        chunk_text("x", size=10, overlap=10)


def test_ndcg_and_recall_match_ranx():
    from ranx import Qrels, Run, evaluate

    qrels = {"q1": {"a": 1, "c": 2, "z": 1}, "q2": {"b": 1}}
    run = {"q1": ["c", "x", "a", "y"], "q2": ["x", "y", "b"]}
    ours_ndcg = [ndcg_at(run[q], qrels[q], 10) for q in qrels]
    ours_recall = [recall_at(run[q], qrels[q], 100) for q in qrels]
    scored = {q: {d: float(len(docs) - i) for i, d in enumerate(docs)} for q, docs in run.items()}
    ranx = evaluate(Qrels(qrels), Run(scored), ["ndcg@10", "recall@100"], return_mean=False)
    assert ours_ndcg == pytest.approx(list(ranx["ndcg@10"]))
    assert ours_recall == pytest.approx(list(ranx["recall@100"]))
    assert ours_recall == [2 / 3, 1.0]


def test_length_sorted_batches_pad_less_and_keep_order():
    lengths = [5, 100, 6, 90, 7, 95]
    order = length_order(lengths)
    assert padded_tokens(lengths, order, 2) < padded_tokens(lengths, range(6), 2)
    texts = ["a", "bbb", "cc"]
    out = embed_in_order(lambda batch: [t.upper() for t in batch], texts, [list(length_order([1, 3, 2]))])
    assert out == ["A", "BBB", "CC"]


def test_token_batches_bound_texts_and_padded_tokens():
    from hybridstore.inference.batching import token_batches

    lengths = [10, 500, 20, 510, 30, 40, 512, 15]
    order = length_order(lengths)
    batches = token_batches(lengths, order, batch_size=3, max_tokens=1024)
    assert [i for b in batches for i in b] == list(order)  # every text once, in sorted order
    for b in batches:
        assert len(b) <= 3 and len(b) * max(lengths[i] for i in b) <= 1024
    assert batches == [[0, 7, 2], [4, 5], [1, 3], [6]]  # short texts share, long ones split
    assert token_batches([600], [0], 4, 512) == [[0]]  # a text over the budget still gets a batch
