"""LlamaIndex nodes, filters and queries <-> the core's Record, filter dicts and options."""

from __future__ import annotations

from typing import Any

from llama_index.core.schema import (
    BaseNode,
    ImageNode,
    IndexNode,
    MetadataMode,
    Node,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from .. import explain
from ..errors import InvalidInputError
from ..records import Record
from .images import node_image

OPERATORS = {
    FilterOperator.EQ: "$eq", FilterOperator.NE: "$ne", FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte", FilterOperator.LT: "$lt", FilterOperator.LTE: "$lte",
    FilterOperator.IN: "$in", FilterOperator.NIN: "$nin", FilterOperator.ANY: "$in",
    FilterOperator.ALL: "$all", FilterOperator.CONTAINS: "$contains",
    # Qdrant's text match compares lower-cased word tokens: it is case-insensitive.
    FilterOperator.TEXT_MATCH: "$text", FilterOperator.TEXT_MATCH_INSENSITIVE: "$text",
    FilterOperator.IS_EMPTY: "$is_empty",
}
_NODE_CLASSES = {c.class_name(): c for c in (Node, IndexNode, ImageNode, TextNode)}
# Node fields the record carries itself; everything else round-trips in `extras`.
_OWN_FIELDS = ("id_", "text", "text_resource", "metadata", "embedding")
# With an image model, an ImageNode's image is the record's: its base64 bytes are embedded,
# never stored (its image_path is kept).
_IMAGE_FIELDS = ("image", "image_resource")


def to_record(node: BaseNode, images: bool = False) -> Record:
    """`images`: the store has an image model, so an ImageNode's image is embedded (else the
    node is stored as text, as before)."""
    image = node_image(node) if images else None
    # Defaults are left out: every search result carries this dict, and its size is search time.
    dump = node.model_dump(mode="json", exclude_defaults=True)
    own = _OWN_FIELDS + (_IMAGE_FIELDS if image is not None else ())
    extra = {k: v for k, v in dump.items() if k not in own}
    return Record(node.node_id, node.get_content(metadata_mode=MetadataMode.NONE),
                  dict(node.metadata), doc_id=node.ref_doc_id,
                  extras={"node_dict": extra, "class_name": node.class_name()}, image=image)


def to_node(record: Record) -> BaseNode:
    extras = record.extras or {}
    if "node_dict" not in extras:  # written by another framework: a plain text node
        rel = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=record.doc_id)} if record.doc_id else {}
        return TextNode(id_=record.id, text=record.text, metadata=record.metadata, relationships=rel)
    node = {k: v for k, v in extras["node_dict"].items() if k not in _OWN_FIELDS}
    node.update(id_=record.id, text=record.text, metadata=record.metadata)
    # The class as metadata_dict_to_node picks it, without its JSON round trip.
    return _NODE_CLASSES.get(extras.get("class_name") or "", TextNode).from_dict(node)


def explained(node: BaseNode, explanation: explain.Explanation | None) -> BaseNode:
    """A result's node (`to_node`'s, its own copy) with how it ranked (``explain=True``) in
    ``metadata["_explanation"]``, a plain dict kept out of what the LLM and the embedding model
    read: nothing stored changes, and prompts stay as they were."""
    if explanation is None:
        return node
    node.metadata = explain.into(node.metadata, explanation, node.node_id)
    node.excluded_llm_metadata_keys = [*node.excluded_llm_metadata_keys, explain.KEY]
    node.excluded_embed_metadata_keys = [*node.excluded_embed_metadata_keys, explain.KEY]
    return node


def to_filter(filters: MetadataFilters | None) -> dict[str, Any] | None:
    """MetadataFilters -> the core's filter dict (anything else passes through as it is)."""
    if filters is None or not isinstance(filters, MetadataFilters):
        return filters
    parts = [to_filter(f) if isinstance(f, MetadataFilters) else _condition(f) for f in filters.filters]
    if not parts:
        return None
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.OR:
        return {"$or": parts}
    if condition == FilterCondition.NOT:  # none of them may match
        return {"$not": {"$or": parts}}
    return {"$and": parts}


def _condition(f: MetadataFilter) -> dict[str, Any]:
    op = OPERATORS.get(f.operator)
    if op is None:
        raise InvalidInputError(f"filter operator {f.operator!r} is not supported")
    return {f.key: {op: True if op == "$is_empty" else f.value}}


SUPPORTED_MODES = (VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.SPARSE,
                   VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.MMR)


def _mode(mode: object) -> VectorStoreQueryMode:
    """A VectorStoreQueryMode, also from its plain string value ("hybrid")."""
    try:
        return VectorStoreQueryMode(mode)
    except ValueError:
        raise InvalidInputError(
            f"query mode {mode!r} is unknown; use one of "
            + ", ".join(m.value for m in SUPPORTED_MODES)) from None


def search_args(query: VectorStoreQuery, defaults: dict[str, Any],
                images: bool = False) -> tuple[str, int, dict[str, Any]]:
    """(query text, k, options) for HybridIndex.search; `images`: of the image vector (an
    image view), the query embedding being the image model's."""
    mode = _mode(query.mode)
    if images:
        if mode != VectorStoreQueryMode.DEFAULT:
            raise InvalidInputError(f"an image store searches the image vector; query mode {mode.value!r} "
                                    "is for the text store")
        options: dict[str, Any] = {
            **defaults, "filter": to_filter(query.filters), "ids": query.node_ids or None,
            "doc_id": query.doc_ids or None, "mode": "image", "image_vector": query.query_embedding}
        if query.query_embedding is None and not (query.query_str or "").strip():
            raise InvalidInputError("an image query needs a query embedding or query_str")
        return query.query_str or "", query.similarity_top_k, {k: v for k, v in options.items() if v is not None}
    # LlamaIndex passes [] for "no restriction" (as_retriever sends the empty nodes_dict).
    # A retriever's MMR lambda comes as vector_store_kwargs={"mmr_threshold": x}, as LlamaIndex's
    # own stores read it (other modes have no use for it); the query's own field wins.
    defaults = dict(defaults)
    threshold = defaults.pop("mmr_threshold", None)
    options = {**defaults, "filter": to_filter(query.filters),
               "ids": query.node_ids or None, "doc_id": query.doc_ids or None}
    k = query.similarity_top_k
    if mode == VectorStoreQueryMode.DEFAULT:  # a search option may name one of ours ("pages")
        options["mode"] = defaults.get("mode") or "dense"
    elif mode == VectorStoreQueryMode.SPARSE:
        options["mode"], k = "sparse", query.sparse_top_k or k
    elif mode == VectorStoreQueryMode.HYBRID:
        options["mode"], k = "hybrid", query.hybrid_top_k or k
        if query.sparse_top_k:
            options["sparse_limit"] = query.sparse_top_k
        if query.alpha is not None:  # LlamaIndex: 1 = vector only, 0 = keyword only
            if not isinstance(query.alpha, (int, float)) or not 0.0 <= query.alpha <= 1.0:
                raise InvalidInputError(
                    f"alpha must be within [0, 1] (1 = vector search only, 0 = keyword search "
                    f"only), got {query.alpha!r}")
            options["weights"] = (float(query.alpha), 1.0 - float(query.alpha))
    elif mode == VectorStoreQueryMode.MMR:
        lam = next((v for v in (query.mmr_threshold, threshold) if v is not None), 0.5)
        options.update(mode="dense", rerank=False, mmr=lam)
    else:
        raise InvalidInputError(
            f"query mode {mode.value!r} is not supported; use default, sparse, hybrid or mmr"
        )
    if query.query_embedding is not None and options["mode"] != "sparse":
        options["dense_vector"] = query.query_embedding
    text = query.query_str or ""
    if not text.strip() and "dense_vector" not in options:
        raise InvalidInputError(f"{mode.value} queries need query_str (or a query embedding)")
    if not text.strip():
        options["rerank"] = False  # nothing to embed for late interaction
    return text, k, {key: v for key, v in options.items() if v is not None}
