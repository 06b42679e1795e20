"""Snapshots and restores (snapshots.py, snapshot_file.py): every record and vector back exactly,
damaged files refused with nothing changed, snapshots taken during writes, across engines."""

from __future__ import annotations

import asyncio
import os
import threading

import numpy as np
import pytest

from hybridstore import HybridIndex, Models, Record
from hybridstore.engine.requests import GetSchema, ScrollPage
from hybridstore.errors import ConfigurationError, InvalidInputError, SchemaMismatchError
from hybridstore.qdrant.payload import point_id

from .conftest import LATE, TEXTS

ENGINE = os.environ.get("HYBRIDSTORE_ENGINE", "edge")
OTHER = "local" if ENGINE == "edge" else "edge"


def dump(index: HybridIndex) -> dict[str, tuple]:
    """Every point: payload and vectors, in a form compared exactly ({} without a collection)."""
    if index.engine.run(index.collection, GetSchema()) is None:
        return {}
    page, _ = index.engine.run(index.collection, ScrollPage(None, 10_000, None, with_vectors=True))
    out = {}
    for f in page:
        vectors = {}
        for name, v in (f.vectors or {}).items():
            vectors[name] = sorted(zip(v.indices, v.values)) if hasattr(v, "indices") \
                else np.asarray(v, dtype=np.float64).tolist()
        out[f.id] = (f.payload, vectors)
    return out


# qdrant-client's local mode normalizes cosine vectors on every write (writing back a stored
# unit vector may move its last float32 bit) and keeps sparse values as float64, which edge
# stores as float32. Within one edge, and from edge into local mode: exact.
ULP = {"edge": 0.0, "local": 1e-6}


def same(a: dict[str, tuple], b: dict[str, tuple], tol: float) -> bool:
    """Same ids, payloads and vector names; every vector value within `tol` (0: exactly)."""
    if a.keys() != b.keys():
        return False
    for k, (payload, vectors) in a.items():
        theirs = b[k][1]
        if payload != b[k][0] or vectors.keys() != theirs.keys():
            return False
        for name, v in vectors.items():
            if np.shape(v) != np.shape(theirs[name]) or not np.allclose(v, theirs[name], rtol=tol, atol=tol):
                return False
    return True


@pytest.fixture
def stored(tmp_path, models, records):
    index = HybridIndex("docs", models, path=str(tmp_path / "data"))
    index.add(records)
    yield index
    index.close()


def _restore(index: HybridIndex, path, **options) -> dict[str, int]:
    """Restore into `index`'s collection through its own engine (the folder is held by it)."""
    return HybridIndex.restore(path, index.collection, engine=index.engine, **options)


@pytest.mark.parametrize("damage", ["drop", "delete", "reingest"])
def test_restore_brings_back_every_record_and_vector(stored, tmp_path, damage):
    before = dump(stored)
    assert stored.snapshot(tmp_path / "s.snap", batch=3) == {"points": 8, "bytes": os.path.getsize(tmp_path / "s.snap")}
    if damage == "drop":
        stored.drop()
    elif damage == "delete":
        stored.delete(["guitar-1", "cats"])
    else:
        stored.add([Record("piano", "wrong text entirely", {"topic": "oops"}), Record("new", "a stray record")])
    assert dump(stored) != before
    assert _restore(stored, tmp_path / "s.snap", replace=True) == {"points": 8}
    assert same(dump(stored), before, ULP[ENGINE])
    assert [h.record.id for h in stored.search("guitar on stage", 1)] == ["guitar-2"]


def test_restore_refuses_a_collection_holding_points(stored, tmp_path):
    stored.snapshot(tmp_path / "s.snap")
    stored.delete(["cats"])
    before = dump(stored)
    with pytest.raises(ConfigurationError, match="replace=True"):
        _restore(stored, tmp_path / "s.snap")
    assert dump(stored) == before


@pytest.mark.parametrize("harm", ["truncated", "tampered", "tampered manifest", "not a snapshot"])
def test_a_damaged_file_is_refused_with_nothing_changed(stored, tmp_path, harm):
    path = tmp_path / "s.snap"
    stored.snapshot(path)
    data = bytearray(path.read_bytes())
    if harm == "truncated":
        data = data[: len(data) * 2 // 3]
    elif harm == "tampered":
        at = data.index(b'"guitar') + 3
        data[at] ^= 1  # one byte of a payload
    elif harm == "tampered manifest":
        data[data.index(b'"collection"') + 1] ^= 1
    else:
        data = b"id,text\n1,hello\n"
    path.write_bytes(bytes(data))
    stored.delete(["cats"])
    before = dump(stored)
    with pytest.raises(InvalidInputError, match="nothing restored"):
        _restore(stored, path, replace=True)
    assert dump(stored) == before


def test_restores_across_engines_with_the_signature_intact(stored, tmp_path, models):
    stored.snapshot(tmp_path / "s.snap")
    before = dump(stored)
    assert HybridIndex.restore(tmp_path / "s.snap", "back", path=str(tmp_path / "other"), engine=OTHER) == {"points": 8}
    with HybridIndex("back", models, path=str(tmp_path / "other"), engine=OTHER) as there:
        assert same(dump(there), before, max(ULP[ENGINE], ULP[OTHER]))
        there.snapshot(tmp_path / "back.snap")  # and back to this engine
        assert [h.record.id for h in there.search("guitar on stage", 1)] == ["guitar-2"]
    other_sparse = Models(sparse="Qdrant/bm42-all-minilm-l6-v2-attentions", late_interaction=LATE)
    with HybridIndex("again", other_sparse, path=str(tmp_path / "other"), engine=OTHER) as wrong:
        HybridIndex.restore(tmp_path / "s.snap", "again", engine=wrong.engine)
        with pytest.raises(SchemaMismatchError, match="sparse"):  # the file's signature: bm25 made them
            wrong.search("guitar")
    _restore(stored, tmp_path / "back.snap", replace=True)
    assert same(dump(stored), before, ULP["local"])  # written by local mode on the way


def test_a_snapshot_during_writes_holds_whole_records(stored, tmp_path, models):
    """A writer thread rewrites records between the snapshot's pages: each record restored is
    one version, whole (its text, metadata and vectors agree)."""
    page_read, wrote = threading.Event(), threading.Event()
    done = threading.Event()
    ids = sorted(TEXTS)

    def writer() -> None:
        version = 0
        while not done.is_set():
            if not page_read.wait(0.05):
                continue
            page_read.clear()
            version += 1
            stored.add([Record(rid, f"version {version} of {rid}", {"version": version}) for rid in ids])
            stored.delete([ids[version % len(ids)]])
            wrote.set()

    def progress(n: int) -> None:
        page_read.set()
        assert wrote.wait(60), "the writer thread stopped"
        wrote.clear()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        stored.snapshot(tmp_path / "s.snap", batch=2, progress=progress)
    finally:
        done.set()
        thread.join()
    HybridIndex.restore(tmp_path / "s.snap", "restored", path=str(tmp_path / "r"), engine=OTHER)
    with HybridIndex("restored", models, path=str(tmp_path / "r"), engine=OTHER) as restored:
        got = restored.get(filter={"version": {"$gte": 0}}) + restored.get(filter={"version": {"$exists": False}})
        assert got
        points = dump(restored)
    assert len(got) == len(points) and {len(v) for _, v in points.values()} == {3}  # dense, sparse, late: every vector
    dense = models.dense.embed_documents([r.text for r in got])
    by_text = {r.text: np.asarray(d) / np.linalg.norm(d) for r, d in zip(got, dense)}
    assert len({r.metadata.get("version") for r in got}) > 1  # pages read between writes
    for r in got:
        if "version" in r.metadata:
            assert r.text == f"version {r.metadata['version']} of {r.id}"
    for r in got:
        _, vectors = points[point_id(r.id)]
        assert np.allclose(vectors["dense"], by_text[r.text], atol=1e-4)  # the text's own vector


def test_tenant_collections_keep_their_tenant_key(tmp_path, models):
    with HybridIndex("t", models, path=str(tmp_path / "a"), tenant_key="tenant") as index:
        index.tenant("acme").add([Record("1", "acme's guitar notes")])
        index.tenant("beta").add([Record("1", "beta's guitar notes")])
        index.snapshot(tmp_path / "t.snap")
        with pytest.raises(ConfigurationError, match="tenant view"):
            index.tenant("acme").snapshot(tmp_path / "x.snap")
    HybridIndex.restore(tmp_path / "t.snap", "t", path=str(tmp_path / "b"), engine=OTHER)
    with HybridIndex("t", models, path=str(tmp_path / "b"), engine=OTHER, tenant_key="tenant") as back:
        assert back.engine.run("t", GetSchema()).signature["tenant_key"] == "tenant"
        assert [h.record.text for h in back.tenant("acme").search("guitar")] == ["acme's guitar notes"]


def test_async_twins(stored, tmp_path):
    before = dump(stored)

    async def go() -> dict[str, int]:
        await stored.asnapshot(tmp_path / "s.snap")
        stored.drop()
        return await HybridIndex.arestore(tmp_path / "s.snap", stored.collection, engine=stored.engine)

    assert asyncio.run(go()) == {"points": 8}
    assert same(dump(stored), before, ULP[ENGINE])


def test_a_server_restores_the_file_and_snapshots_it_back(stored, tmp_path, models):
    """A Qdrant server (the fake) takes the file through ordinary writes; its own snapshot
    restores back into this engine."""
    from .reliability.fake_qdrant import FakeQdrant

    stored.snapshot(tmp_path / "s.snap")
    before = dump(stored)
    with FakeQdrant() as fake:
        assert HybridIndex.restore(tmp_path / "s.snap", "docs", url=fake.url, timeout=5) == {"points": 8}
        with HybridIndex("docs", models, url=fake.url, timeout=5) as server:
            assert sorted(r.id for r in server.get(limit=100)) == sorted(TEXTS)
            server.snapshot(tmp_path / "server.snap")
    _restore(stored, tmp_path / "server.snap", replace=True)
    assert same(dump(stored), before, ULP[ENGINE])


def test_a_bad_file_makes_no_collection(tmp_path):
    path = tmp_path / "bad.snap"
    path.write_bytes(b"HYBRIDSTORE-SNAPSHOT\n{}\n")
    with pytest.raises(InvalidInputError, match="truncated"):
        HybridIndex.restore(path, "fresh", path=str(tmp_path / "d"))
    with HybridIndex("fresh", Models(), path=str(tmp_path / "d")) as index:
        assert index.engine.run("fresh", GetSchema()) is None


def resigned(path, edit) -> None:
    """The snapshot at `path` with its manifest edited and its checksum made to match."""
    import hashlib
    import json

    magic, manifest, *points, _ = path.read_bytes().splitlines(keepends=True)
    manifest = json.dumps(edit(json.loads(manifest))).encode() + b"\n"
    body = b"".join([magic, manifest, *points])
    end = {"points": len(points), "sha256": hashlib.sha256(body).hexdigest()}
    path.write_bytes(body + b"#end " + json.dumps(end).encode() + b"\n")


@pytest.mark.parametrize(("edit", "refusal"), [
    (lambda m: {**m, "format": 2}, r"s\.snap: snapshot format 2, this version of hybridstore reads format 1"),
    (lambda m: {**m, "signature": {}}, r"s\.snap: the snapshot holds no model signature"),
    (lambda m: {**m, "fields": [{"name": "dense"}]}, r"s\.snap: the snapshot is damaged \(TypeError"),
])
def test_a_whole_file_of_another_format_or_without_a_signature_is_refused(stored, tmp_path, edit, refusal):
    path = tmp_path / "s.snap"
    stored.snapshot(path)
    resigned(path, lambda m: m)
    _restore(stored, path, replace=True)  # the helper keeps a file whole
    resigned(path, edit)
    stored.delete(["cats"])
    before = dump(stored)
    with pytest.raises(InvalidInputError, match=refusal):
        _restore(stored, path, replace=True)
    assert dump(stored) == before


def test_a_collection_without_a_signature_is_refused_before_a_file_is_written(tmp_path, models):
    from hybridstore.engine.requests import Create
    from hybridstore.qdrant.schema import Schema, VectorField

    with HybridIndex("foreign", models, path=str(tmp_path / "d")) as index:
        index.engine.run("foreign", Create(Schema((VectorField("dense", "dense", 4),))))
        with pytest.raises(ConfigurationError, match="no model signature"):
            index.snapshot(tmp_path / "f.snap")
    assert not list(tmp_path.glob("f.snap*"))


def test_a_path_that_cannot_take_the_file_is_refused_naming_the_fix(stored, tmp_path):
    """A missing folder or a folder given as the file: refused before anything is read, naming
    the path given (not the writer's temporary `.partial` file) and what to do."""
    with pytest.raises(InvalidInputError, match=r"the folder .*missing.* does not exist; create it first"):
        stored.snapshot(tmp_path / "missing" / "s.snap")
    with pytest.raises(InvalidInputError, match=r"is a folder: name a file, e.g. .*docs\.snapshot"):
        stored.snapshot(tmp_path)
    with pytest.raises(InvalidInputError, match=r"is a folder: name a file"):
        stored.snapshot(f"{tmp_path / 'missing'}/")
    with pytest.raises(InvalidInputError, match=r"is empty: name a file, e.g. 'docs.snapshot'"):
        stored.snapshot("")
    target = tmp_path / "s.snap"  # a folder made there while it is written: the rename fails

    def block(_):
        (target / "inside").mkdir(parents=True, exist_ok=True)

    with pytest.raises(OSError):
        stored.snapshot(target, progress=block)
    assert not (tmp_path / "s.snap.partial").exists()
    assert not (tmp_path / "missing").exists() and not list(tmp_path.rglob("*.partial"))


def picture(root) -> dict[str, str | None]:
    """Every folder and file under `root`, each file by its bytes' sha256 ({}: no folder)."""
    import hashlib

    out: dict[str, str | None] = {}
    for folder, _, files in os.walk(root):
        out[os.path.relpath(folder, root)] = None
        for name in files:
            with open(os.path.join(folder, name), "rb") as fh:
                out[os.path.relpath(os.path.join(folder, name), root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


REFUSALS = {  # how each refused file is made from a good one, and what the refusal says
    "not a snapshot": (lambda p: p.write_bytes(b"id,text\n1,hello\n"), InvalidInputError, "not a hybridstore snapshot"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size * 2 // 3]), InvalidInputError, "truncated"),
    "tampered": (lambda p: p.write_bytes(p.read_bytes().replace(b"guitar", b"guitaR", 1)), InvalidInputError, "checksum"),
    "format": (lambda p: resigned(p, lambda m: {**m, "format": 2}), InvalidInputError, "format 2"),
    "no signature": (lambda p: resigned(p, lambda m: {**m, "signature": {}}), InvalidInputError, "no model signature"),
}


@pytest.mark.parametrize("refusal", [*REFUSALS, "batch"])
@pytest.mark.parametrize("target", ["absent", "held"])
def test_a_refused_restore_leaves_the_target_folder_as_it_was(stored, tmp_path, models, refusal, target):
    """No folder made where there was none; a folder holding a collection byte for byte as it was."""
    path = tmp_path / "s.snap"
    stored.snapshot(path)
    folder = tmp_path / "target"
    if target == "held":
        HybridIndex.restore(path, "docs", path=str(folder))
        with HybridIndex("docs", models, path=str(folder)) as once:
            once.count()  # Qdrant Edge writes its full config the first time it loads a shard (any open does)
    damage, error, says = REFUSALS.get(refusal, (lambda p: None, ConfigurationError, "batch=0"))
    damage(path)
    before = picture(folder)
    with pytest.raises(error, match=says):
        HybridIndex.restore(path, "docs", path=str(folder), batch=0 if refusal == "batch" else 256)
    assert picture(folder) == before and (target == "held") == folder.exists()


def test_a_collection_holding_points_is_refused_with_its_folder_as_it_was(stored, tmp_path, models):
    path = tmp_path / "s.snap"
    stored.snapshot(path)
    folder = tmp_path / "target"
    HybridIndex.restore(path, "docs", path=str(folder))
    with HybridIndex("docs", models, path=str(folder)) as once:
        once.count()  # Qdrant Edge writes its full config the first time it loads a shard (any open does)
    before = picture(folder)
    with pytest.raises(ConfigurationError, match="holds 8 points"):
        HybridIndex.restore(path, "docs", path=str(folder))
    with pytest.raises(ConfigurationError, match="holds 8 points"):
        asyncio.run(HybridIndex.arestore(path, "docs", path=str(folder)))
    assert picture(folder) == before


def test_an_async_refusal_makes_no_folder(stored, tmp_path):
    path = tmp_path / "s.snap"
    stored.snapshot(path)
    REFUSALS["truncated"][0](path)
    with pytest.raises(InvalidInputError, match="truncated"):
        asyncio.run(HybridIndex.arestore(path, "docs", path=str(tmp_path / "target")))
    assert not (tmp_path / "target").exists()


def test_a_server_refuses_a_bad_file_or_a_collection_holding_points_with_nothing_changed(stored, tmp_path):
    """On a server (the fake) as on embedded engines: nothing made, nothing replaced."""
    from .reliability.fake_qdrant import FakeQdrant

    path = tmp_path / "s.snap"
    stored.snapshot(path)
    good = path.read_bytes()
    with FakeQdrant() as fake:
        REFUSALS["tampered"][0](path)
        with pytest.raises(InvalidInputError, match="checksum"):
            HybridIndex.restore(path, "docs", url=fake.url, timeout=5)
        assert fake.collections == {} and not any(m == "PUT" for m, _, _ in fake.bodies)
        path.write_bytes(good)
        HybridIndex.restore(path, "docs", url=fake.url, timeout=5)
        held = {k: dict(p) for k, p in fake.points["docs"].items()}
        writes = len(fake.bodies)
        with pytest.raises(ConfigurationError, match="holds 8 points"):
            asyncio.run(HybridIndex.arestore(path, "docs", url=fake.url, timeout=5))
        assert fake.points["docs"] == held
        assert not [m for m, _, _ in fake.bodies[writes:] if m in ("PUT", "DELETE")]
