"""BEIR folders (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) and the two metrics we report.

Metrics follow trec_eval (as BEIR and pytrec_eval do): nDCG with linear gain, recall over
documents with relevance > 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from .records import Record


def is_beir(path: Path) -> bool:
    return (path / "corpus.jsonl").is_file()


def corpus_records(path: Path) -> Iterator[Record]:
    with open(path / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            title = doc.get("title") or ""
            text = f"{title} {doc['text']}".strip() if title else doc["text"]
            yield Record(str(doc["_id"]), text, {"title": title}, doc_id=str(doc["_id"]))


def queries(path: Path) -> dict[str, str]:
    with open(path / "queries.jsonl", encoding="utf-8") as f:
        return {str(q["_id"]): q["text"] for q in map(json.loads, f)}


def qrels(path: Path, split: str = "test") -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with open(path / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            qid, did, score = line.rstrip("\n").split("\t")
            out.setdefault(qid, {})[did] = int(score)
    return out


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
