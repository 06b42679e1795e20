"""Child process of the durability test: ingests numbered batches and reports each one whose
add() has returned, so the parent can SIGKILL it at any moment and check what survived.

    python -m tests.reliability.ingest_child DIR ENGINE BATCHES
"""

from __future__ import annotations

import sys

from hybridstore import HybridIndex, Models, Record

BATCH = 8


def batch(b: int) -> list[Record]:
    return [Record(f"b{b}-{i}", f"batch {b} record {i}: rivers, {'mountains ' * (i + 1)}and lakes",
                   {"batch": b, "i": i, "tags": [f"t{b % 3}", "x" * i]}, doc_id=f"doc-{b}")
            for i in range(BATCH)]


def main(folder: str, engine: str, batches: int) -> None:
    with HybridIndex("durable", Models(), path=folder, engine=engine, upsert_batch=3) as idx:
        idx.models.embed_documents(["warm up"], idx.models.kinds())
        print("ready", flush=True)
        for b in range(batches):
            idx.add(batch(b), skip_unchanged=False)  # every run really writes: kills land mid-write
            print(f"ok {b}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
