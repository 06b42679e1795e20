"""Search as a tool an agent can drive: one argument schema, one description and one runner,
shared by the LangChain and LlamaIndex tool factories and the MCP server.

The description names the metadata keys a filter can use, with their types (the declared
payload indexes, else a sample of stored records). A bad argument (an unknown key's type, a
malformed filter, a mode the models cannot serve) comes back as a short message the model can
act on, never as an exception that ends the agent's run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from . import explain
from .errors import HybridStoreError, InvalidInputError
from .qdrant import query as qplan
from .records import Hit

if TYPE_CHECKING:
    from .index import HybridIndex

SAMPLE = 50  # stored records read to learn the metadata keys when no payload index names them
TEXT_SHOWN = 600  # characters of each hit's text the model sees


class SearchArgs(BaseModel):
    """The arguments of the search tool."""

    query: str = Field(description="What to search for, in natural language.")
    k: int = Field(5, ge=1, le=50, description="How many results to return.")
    mode: Literal["hybrid", "dense", "sparse", "multimodal", "image", "pages"] | None = Field(
        None, description="hybrid (default: meaning and keywords), dense (meaning) or sparse (keywords); "
        "with images: multimodal (default: text and pictures) or image (pictures only); with page "
        "images: multimodal (default: text and pages) or pages (page images only).")
    filter: str | dict[str, Any] | None = Field(
        None, description='A metadata filter (JSON), e.g. {"year": {"$gte": 2020}} or '
        '{"$or": [{"topic": "a"}, {"topic": "b"}]}; operators: $eq $ne $gt $gte $lt $lte $in $nin '
        "$contains $all $text $exists $is_empty $count $geo_radius $geo_box $geo_polygon $and $or $not.")
    explain: bool = Field(False, description="Also say why each result ranked: its rank and score in each "
                          "branch (dense, sparse), its share of the fused score, the rerank's change and the "
                          "query terms it matched. For tuning a search, not for answering.")
    boost: str | dict[str, Any] | None = Field(
        None, description='Rank by more than similarity (JSON): {"recency": {"key": "published", "half_life": '
        '"30d"}} halves the score per 30 days of age; {"match": [[{"source": "official"}, 1.3]]} multiplies '
        'matching records\' scores; {"factor": "popularity"} multiplies by a numeric key. Keys combine.')


def description(index: HybridIndex, about: str | None = None) -> str:
    """What the tool searches and which metadata keys its filter can use."""
    keys = filterable_keys(index)
    listed = ", ".join(f"{k} ({t})" for k, t in keys.items()) or "none found"
    return (f"Search {about or f'the collection {index.collection!r}'} with hybrid retrieval "
            f"(modes: {', '.join(modes(index))}; the first is the default). "
            f"Metadata keys a filter can use: {listed}. Returns the best matches with their ids, "
            "scores and metadata.")


def modes(index: HybridIndex) -> list[str]:
    """The search modes this index's models serve, the default first."""
    available = set(index.models.kinds())
    served: list[str] = []
    for mode in (None, *qplan.MODES):
        try:
            resolved = qplan.resolve(qplan.SearchRequest(mode=mode, rerank=False), available).mode
        except InvalidInputError:
            continue
        if resolved is not None:  # resolve always names the mode it serves
            served.append(resolved)
    return list(dict.fromkeys(served))


def collection_facts(index: HybridIndex) -> str:
    """The collection for an agent (JSON): vectors, models, counts and filterable keys, but not
    where the index and its models lie on the host (their paths are not the agent's business)."""
    info = index.info()
    info["storage"] = {"engine": info["storage"].get("engine")}
    info["models"] = {kind: {k: v for k, v in model.items() if not k.endswith("path")}
                      for kind, model in info["models"].items()}
    return json.dumps({**info, "modes": modes(index), "filterable_keys": filterable_keys(index)}, indent=1)


def filterable_keys(index: HybridIndex) -> dict[str, str]:
    """Metadata key -> type, from the declared payload indexes, else a sample of records."""
    declared = dict(index.settings.payload_indexes)
    if declared:
        return declared
    keys: dict[str, str] = {}
    for record in index.get(limit=SAMPLE):
        for key, value in record.metadata.items():
            keys.setdefault(key, kind(value))
    return keys


def callables(index: HybridIndex) -> tuple[Callable[..., str], Callable[..., Awaitable[str]]]:
    """The sync and async functions a framework's tool wraps (keyword arguments: SearchArgs)."""
    def run(**args: Any) -> str:
        return search(index, args)

    async def arun(**args: Any) -> str:
        return await asearch(index, args)

    return run, arun


def search(index: HybridIndex, args: dict[str, Any]) -> str:
    with answering() as answer:
        answer.text = _format(index.search(**_parse(args)))
    return answer.text


async def asearch(index: HybridIndex, args: dict[str, Any]) -> str:
    with answering() as answer:
        answer.text = _format(await index.asearch(**_parse(args)))
    return answer.text


def parse_filter(text: str | dict[str, Any] | None, what: str = "filter") -> object:
    """A filter (or `what`: a boost) given as JSON text (or already as an object); any JSON value
    (the core refuses what is not a filter or a boost, naming it)."""
    if not isinstance(text, str):
        return text or None
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"{what} is not JSON ({e.msg} at column {e.colno})") from None


def bad_arguments(error: ValidationError) -> str:
    """The message for arguments that do not fit SearchArgs (frameworks that check them first)."""
    return _correct(_misfit(error))


def _parse(args: dict[str, Any]) -> dict[str, Any]:
    """Tool arguments -> search keywords; InvalidInputError names what to fix."""
    try:
        given = SearchArgs(**args)
    except ValidationError as e:
        raise InvalidInputError(_misfit(e)) from None
    options: dict[str, Any] = {"mode": given.mode} if given.mode else {}
    boost = parse_filter(given.boost, "boost")
    if boost is not None:
        options["boost"] = boost
    return {"query": given.query, "k": given.k, "filter": parse_filter(given.filter), "explain": given.explain,
            **options}


@dataclass
class Answer:
    text: str = ""


@contextlib.contextmanager
def answering() -> Iterator[Answer]:
    """Set `answer.text` inside; a HybridStoreError becomes the answer, for the model to fix."""
    answer = Answer()
    try:
        yield answer
    except HybridStoreError as e:  # for the model to correct, not to end its run
        answer.text = _correct(str(e))


def _misfit(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"bad arguments: {'.'.join(str(p) for p in first['loc']) or 'all'}: {first['msg']}"


def _correct(problem: str) -> str:
    return f"Error: {problem}. Correct the arguments and call the tool again."


def _format(hits: list[Hit]) -> str:
    if not hits:
        return "No results."
    lines = []
    for rank, hit in enumerate(hits, 1):
        text = " ".join(hit.record.text.split())
        text = text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN - 3] + "..."
        image = f" image {hit.record.image}" if hit.record.image is not None else ""
        why = f"\nwhy: {explain.said(hit.explanation)}" if hit.explanation is not None else ""
        lines.append(f"{rank}. [{hit.record.id}] score {hit.relevance:.3f}{image} "
                     f"metadata {json.dumps(hit.record.metadata, ensure_ascii=False)}{why}\n{text}")
    return "\n\n".join(lines)


def kind(value: object) -> str:
    """A JSON value's type, as a filter's key is described."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "integer" if isinstance(value, int) else "number"
    if isinstance(value, list):
        return "list"
    return "object" if isinstance(value, dict) else "string"
