"""A Qdrant Edge shard's configuration: made from a schema and `Storage` (`config`), read back
(`storage_of`), and rewritten with one more vector (`with_vector`) so that a vector added later
gets the collection's storage settings, not the engine's defaults."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

import qdrant_edge as edge

from ..errors import ConfigurationError
from ..qdrant.schema import Schema, VectorField, multivector
from ..qdrant.storage import Storage, of_vector, quantization_name

E = TypeVar("E", bound=Enum)
DEFAULTS = Storage()  # frozen: one shared default
Params = dict[str, Any]  # one vector's stored configuration (the shard's JSON)


def _int8(on: str | None) -> edge.ScalarQuantizationConfig | None:
    return edge.ScalarQuantizationConfig(edge.ScalarType.Int8, always_ram=True) if on == "int8" else None


def sparse_params(f: VectorField, st: Storage) -> edge.EdgeSparseVectorParams:
    """The EdgeSparseVectorParams of a sparse field under `st`."""
    return edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf if f.modifier == "idf" else None,
                                       on_disk=st.on_disk or None)


def params(f: VectorField, st: Storage) -> edge.EdgeVectorParams:
    """The EdgeVectorParams of a dense (or late-interaction, or image) field under `st`."""
    if f.size is None:  # only a sparse vector has no size
        raise ConfigurationError(f"vector {f.name!r} ({f.kind}) has no size")
    st = of_vector(st, f.kind)
    half = edge.VectorStorageDatatype.Float16 if st.float16 else None
    if multivector(f.kind):  # rerank only: MaxSim, no HNSW graph (m=0);
        # edge wants every HNSW field, the other two are Qdrant's defaults
        return edge.EdgeVectorParams(
            f.size, edge.Distance.Cosine, on_disk=st.late_on_disk or None, datatype=half,
            multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
            quantization_config=_int8(st.late_quantize),
            hnsw_config=edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10000))
    hnsw = edge.HnswIndexConfig(m=16 if st.hnsw_m is None else st.hnsw_m,
                                ef_construct=st.hnsw_ef_construct or 100, full_scan_threshold=10000) \
        if (st.hnsw_m, st.hnsw_ef_construct) != (None, None) else None
    return edge.EdgeVectorParams(f.size, edge.Distance.Cosine, on_disk=st.on_disk or None, datatype=half,
                                 quantization_config=_int8(st.quantize), hnsw_config=hnsw)


def config(schema: Schema, st: Storage = DEFAULTS) -> edge.EdgeConfig:
    dense = {f.name: params(f, st) for f in schema.fields if f.kind != "sparse"}
    sparse = {f.name: sparse_params(f, st) for f in schema.fields if f.kind == "sparse"}
    return edge.EdgeConfig(vectors=dense, sparse_vectors=sparse, on_disk_payload=st.payload_on_disk or None)


def with_vector(stored: dict[str, Any], field: VectorField, st: Storage) -> edge.EdgeConfig:
    """The EdgeConfig of a shard whose stored configuration (its JSON) is `stored`, plus `field`
    under `st`. Edge reloads a shard with a config only if it lists every vector, so the stored
    ones are rebuilt as they are; a setting this cannot rebuild is refused before anything changes."""
    dense = {n: _dense_from(n, p) for n, p in (stored.get("vectors") or {}).items()}
    sparse = {n: _sparse_from(n, p) for n, p in (stored.get("sparse_vectors") or {}).items()}
    if field.kind == "sparse":
        sparse[field.name] = sparse_params(field, st)
    else:
        dense[field.name] = params(field, st)
    return edge.EdgeConfig(vectors=dense, sparse_vectors=sparse)


def _enum(kind: type[E], value: object, name: str) -> E:
    """Edge's enum member for a JSON value ("cosine", "max_sim", "float16"), by name (edge's
    enums are Rust classes: their members are attributes, not an Enum's mapping)."""
    want = str(value).replace("_", "").lower()
    for member in dir(kind):
        if member.lower() == want:
            found: E = getattr(kind, member)
            return found
    raise _unknown(name, value)


def _unknown(name: str, value: object) -> ConfigurationError:
    return ConfigurationError(
        f"vector {name!r} has a setting hybridstore cannot carry over when it adds a vector ({value!r}); "
        "nothing was changed. Add the model to a new collection (HybridIndex with the new models, "
        "then add the texts again)")


def _take(p: Params, name: str, known: tuple[str, ...]) -> Params:
    extra = sorted(set(p) - set(known))
    if extra:
        raise _unknown(name, {k: p[k] for k in extra})
    return p


def _dense_from(name: str, p: Params) -> edge.EdgeVectorParams:
    _take(p, name, ("size", "distance", "on_disk", "multivector_config", "datatype", "quantization_config",
                    "hnsw_config", "memory"))
    q = p.get("quantization_config")
    if q:
        scalar = q.get("scalar") if isinstance(q, dict) else None
        if quantization_name(q) != "int8" or scalar is None:
            raise _unknown(name, q)
        _take(scalar, name, ("type", "quantile", "always_ram", "memory"))
        q = edge.ScalarQuantizationConfig(edge.ScalarType.Int8, quantile=scalar.get("quantile"),
                                          always_ram=scalar.get("always_ram"),
                                          memory=_memory(scalar.get("memory"), name))
    h = p.get("hnsw_config")
    if h:
        _take(h, name, ("m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "on_disk",
                        "payload_m", "inline_storage", "memory"))
        h = edge.HnswIndexConfig(h["m"], h["ef_construct"], h["full_scan_threshold"],
                                 max_indexing_threads=h.get("max_indexing_threads", 0), on_disk=h.get("on_disk"),
                                 payload_m=h.get("payload_m"), inline_storage=h.get("inline_storage"),
                                 memory=_memory(h.get("memory"), name))
    multi = p.get("multivector_config")
    return edge.EdgeVectorParams(
        p["size"], _enum(edge.Distance, p["distance"], name), on_disk=p.get("on_disk"),
        multivector_config=edge.MultiVectorConfig(_enum(edge.MultiVectorComparator, multi["comparator"], name))
        if multi else None,
        datatype=_datatype(p.get("datatype"), name), quantization_config=q or None, hnsw_config=h or None,
        memory=_memory(p.get("memory"), name))


def _sparse_from(name: str, p: Params) -> edge.EdgeSparseVectorParams:
    _take(p, name, ("full_scan_threshold", "on_disk", "modifier", "datatype", "memory"))
    modifier = p.get("modifier")
    return edge.EdgeSparseVectorParams(
        full_scan_threshold=p.get("full_scan_threshold"), on_disk=p.get("on_disk"),
        modifier=_enum(edge.Modifier, modifier, name) if modifier else None,
        datatype=_datatype(p.get("datatype"), name), memory=_memory(p.get("memory"), name))


def _datatype(value: object, name: str) -> edge.VectorStorageDatatype | None:
    return None if value is None else _enum(edge.VectorStorageDatatype, value, name)


def _memory(value: object, name: str) -> edge.Memory | None:
    return None if value is None else _enum(edge.Memory, value, name)


def storage_of(config: dict[str, Any]) -> Storage:
    """The stored settings of a shard's configuration (its JSON), from the first dense and
    late-interaction vectors by name; a vector's own quantization and HNSW, else the shard's."""
    vectors = [p for _, p in sorted((config.get("vectors") or {}).items())]  # by name: edge's order varies
    dense: Params = next((p for p in vectors if not p.get("multivector_config")), {})
    late: Params = next((p for p in vectors if p.get("multivector_config")), {})
    hnsw = dense.get("hnsw_config") or config.get("hnsw_config") or {}

    def quantized(p: Params) -> str | None:
        return quantization_name(p.get("quantization_config", config.get("quantization_config")))

    def cold(p: Params, flag: str, memory: str) -> bool:
        return bool(p.get(flag)) or str(p.get(memory, "")).lower() == "cold"

    return Storage(quantize=quantized(dense), on_disk=cold(dense, "on_disk", "memory"),
                   float16=dense.get("datatype") == "float16",
                   payload_on_disk=cold(config, "on_disk_payload", "payload_memory"),
                   hnsw_m=hnsw.get("m"), hnsw_ef_construct=hnsw.get("ef_construct"),
                   late_on_disk=cold(late, "on_disk", "memory"), late_quantize=quantized(late) if late else None)
