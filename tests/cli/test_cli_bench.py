"""`hybridstore bench`: padding-aware vs naive batches of the dense model."""

import json

from hybridstore.cli import main


def _beir(tmp_path):
    folder = tmp_path / "beir"
    folder.mkdir()
    rows = [{"_id": f"d{i}", "title": "", "text": "word " * (3 + 9 * i)} for i in range(4)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "word"}) + "\n")
    return folder


def test_bench_measures_the_dense_model(tmp_path, capsys):
    code = main(["--sparse", "none", "bench", str(_beir(tmp_path)), "--limit", "4"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["docs"] == 4 and len(summary["runs"]) == 4
    assert summary["padding_aware"] <= summary["padding_naive"]


def test_bench_without_a_dense_model_is_a_usage_error(tmp_path, capsys):
    # found by mypy: models.dense is None here, and bench crashed with an AttributeError
    code = main(["--dense", "none", "bench", str(_beir(tmp_path)), "--limit", "4"])
    assert code == 2 and "bench measures the padding of a dense model" in capsys.readouterr().err
