"""BEIR folders (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) and the two metrics we report.

Metrics follow trec_eval (as BEIR and pytrec_eval do): nDCG with linear gain, recall over
documents with relevance > 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .records import Record


def is_beir(path: Path) -> bool:
    """A corpus with queries or judgements beside it (a corpus.jsonl alone is plain JSONL)."""
    return (path / "corpus.jsonl").is_file() and ((path / "queries.jsonl").is_file()
                                                  or (path / "qrels").is_dir())


EMPTY = "empty document"


def to_record(row: object) -> tuple[Record | None, str | None]:
    """A corpus row (``_id`` or ``id``, ``title``, ``text``) as a record, or why it cannot be
    one (`EMPTY` for documents with no text: real BEIR sets have them)."""
    if not isinstance(row, dict):
        return None, f"a JSON {type(row).__name__}, not an object"
    rid = row.get("_id", row.get("id"))
    if rid in (None, ""):
        return None, 'no "_id" (or "id")'
    title, body = row.get("title") or "", row.get("text") or ""
    if not isinstance(title, str) or not isinstance(body, str):
        return None, '"title" and "text" must be strings'
    text = f"{title} {body}".strip()
    if not text:
        return None, EMPTY
    return Record(str(rid), text, {"title": title}, doc_id=str(rid)), None


def corpus_records(path: Path, skipped: list[str] | None = None) -> Iterator[Record]:
    """The corpus; empty documents are left out (their ids appended to `skipped`), any other
    bad row is a ValueError naming the file and line."""
    for n, row in _rows(path / "corpus.jsonl"):
        record, problem = to_record(row)
        if record is not None:
            yield record
        elif problem == EMPTY and skipped is not None:
            skipped.append(str(row.get("_id", row.get("id"))))
        elif problem != EMPTY:
            raise ValueError(f"{path / 'corpus.jsonl'}:{n}: {problem}")


def queries(path: Path) -> dict[str, str]:
    return {str(q["_id"]): q["text"] for _, q in _rows(path / "queries.jsonl")}


def qrels(path: Path, split: str = "test") -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with open(path / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\r\n").split("\t")
            if not line.strip() or (n == 1 and not parts[-1].lstrip("-").isdigit()):
                continue  # the header, blank lines
            if len(parts) < 3:
                raise ValueError(f"{f.name}:{n}: expected query-id, corpus-id and score, tab-separated")
            qid, did, score = parts[0], parts[-2], parts[-1]  # TREC style puts an iteration between
            out.setdefault(qid, {})[did] = int(score)
    return out


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    with open(path, encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None


def ndcg_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 100) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
