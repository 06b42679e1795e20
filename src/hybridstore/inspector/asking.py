"""The page's requests, checked: a search's options (every option of `search` the page offers),
a comparison of two of them, a why-not. A request that does not fit is refused with the field
and the fix (`Refused`), before the index is asked anything."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import tools

K_MAX = 100  # hits a page shows
M = TypeVar("M", bound=BaseModel)


class Refused(ValueError):
    """A request the page must correct (HTTP 400, its message in the JSON answer)."""


class Options(BaseModel):
    """One configuration of a search (None: the index's default)."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["dense", "sparse", "hybrid"] | None = None
    fusion: Literal["rrf", "dbsf"] | None = None
    weights: list[float] | None = Field(None, description="RRF weights, one per branch")
    rrf_k: int | None = Field(None, ge=1)
    oversample: int | None = Field(None, ge=1, le=100)
    rerank: bool | None = None
    filter: str | dict[str, Any] | None = None  # JSON text, or the object
    group_by: str | None = None
    group_size: int | None = Field(None, ge=1, le=10)
    tenant: str | None = None

    def keywords(self) -> dict[str, Any]:
        """The keywords of `HybridIndex.search` (the tenant chooses the view, not a keyword)."""
        given = self.model_dump(include=set(Options.model_fields) - {"tenant", "filter"}, exclude_none=True)
        if "weights" in given:
            given["weights"] = tuple(given["weights"])
        if self.group_by == "":
            given.pop("group_by")
        return {**given, "filter": tools.parse_filter(self.filter)}


class SearchAsked(Options):
    query: str = Field(min_length=1)
    k: int = Field(10, ge=1, le=K_MAX)


class CompareAsked(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1)
    k: int = Field(10, ge=1, le=K_MAX)
    a: Options
    b: Options


class WhyNotAsked(SearchAsked):
    id: str = Field(min_length=1)


class EvalAsked(BaseModel):
    """An eval's --json-out rows, and the query texts (BEIR queries.jsonl) when the page has them."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]]
    name: str = Field("eval", max_length=200)
    queries: dict[str, str] = {}


def checked(model: type[M], body: object) -> M:
    """`body` as `model`, or `Refused` naming the first field that does not fit."""
    if not isinstance(body, dict):
        raise Refused("the request must be a JSON object")
    try:
        return model(**body)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the request"
        raise Refused(f"{where}: {first['msg']}") from None
