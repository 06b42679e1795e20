"""The page's answers, as JSON-ready values, from the core alone: an explained search, two
configurations compared, why-not, an eval's charts. Read-only by construction: the index is
only asked `search`, `why_not`, `info`, `get` and `count`, one request at a time."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import explain
from ..cli import UsageError, eval_report, explained
from .asking import CompareAsked, EvalAsked, Options, Refused, SearchAsked, WhyNotAsked
from .facts import Hider, overview
from .readonly import ReadOnly

if TYPE_CHECKING:
    from ..index import HybridIndex
    from ..records import Hit


class Inspector:
    def __init__(self, index: HybridIndex, folder: str | None) -> None:
        """`folder`: the index folder (None: a server); no path outside it is shown. The index
        is read-only from here on (`readonly`)."""
        index.engine = ReadOnly(index.engine)
        self.index, self.hider = index, Hider(folder)
        index.count()  # reads the collection (a missing one is named now), and the tenant key it records
        if index.tenant_key is not None and index.settings.tenant_key is None:  # for tenant views
            index.settings = replace(index.settings, tenant_key=index.tenant_key)
        self._lock = threading.Lock()  # the server's threads ask the index one at a time

    def overview(self) -> dict[str, Any]:
        with self._lock:
            return overview(self.index, self.hider)

    def search(self, asked: SearchAsked) -> dict[str, Any]:
        return {"hits": self._hits(asked.query, asked.k, asked)}

    def compare(self, asked: CompareAsked) -> dict[str, Any]:
        """Both configurations' hits, and each hit's rank under a and b (None: not in the top k)
        with its movement from a to b (places gained)."""
        a, b = (self._hits(asked.query, asked.k, o) for o in (asked.a, asked.b))
        rank_a = {h["id"]: h["rank"] for h in a}
        rank_b = {h["id"]: h["rank"] for h in b}
        moves = [{"id": i, "a": rank_a.get(i), "b": rank_b.get(i),
                  "change": rank_a[i] - rank_b[i] if i in rank_a and i in rank_b else None}
                 for i in dict.fromkeys([*rank_a, *rank_b])]
        return {"a": a, "b": b, "moves": moves}

    def why_not(self, asked: WhyNotAsked) -> dict[str, Any]:
        with self._lock:
            why = self._view(asked).why_not(asked.query, asked.id, asked.k, **asked.keywords())
        answer = explained.as_json(why)
        answer["stages"] = explained.said(why, asked.k)
        return self._hidden(answer)

    def eval(self, asked: EvalAsked) -> dict[str, Any]:
        """The charts of `hybridstore eval --report` (its code), and the queries hybrid lost,
        which the page links to their explained search."""
        try:
            rows = eval_report.checked_rows(asked.rows, asked.name)
        except UsageError as e:
            raise Refused(str(e)) from None
        hybrid: dict[str, object] = next((r["queries"] for r in rows if r.get("mode") == "hybrid" and "queries" in r), {})
        lost = eval_report.losses(rows, {q: asked.queries.get(q, "") for q in hybrid})
        # the page's own upload, not the index: shown as given (escaped by the report's code)
        return {"html": "\n".join(eval_report.charts(rows, lost)),
                "lost": [{"id": x["id"], "text": x["text"], "by": x["by"]} for x in lost]}

    def _hits(self, query: str, k: int, options: Options) -> list[dict[str, Any]]:
        with self._lock:  # a grouped search is explained too (the page offers no mmr=, which explain refuses with it)
            hits = self._view(options).search(query, k, explain=True, **options.keywords())
        return [self._hidden(_hit(n, h)) for n, h in enumerate(hits, 1)]

    def _view(self, options: Options) -> HybridIndex:
        """The index, or the tenant's view of it."""
        if options.tenant is None or options.tenant == "":
            return self.index
        if self.index.tenant_key is None:
            raise Refused("tenant: this collection has no tenants (it was made without tenant_key)")
        return self.index.tenant(options.tenant)

    def _hidden(self, answer: dict[str, Any]) -> dict[str, Any]:
        shown = self.hider.value(answer)
        assert isinstance(shown, dict)
        return shown


def _hit(rank: int, hit: Hit) -> dict[str, Any]:
    """A hit for the page: its explanation whole, in one line, the query terms it matched
    (the tokens the page highlights in its text), and its group (a grouped search's)."""
    e = hit.explanation
    assert e is not None, "the page's searches are explained"
    terms = [t.token for b in e.branches for t in b.terms if t.token is not None and not t.expansion]
    return {"rank": rank, "id": hit.record.id, "score": hit.score, "relevance": hit.relevance,
            "text": hit.record.text, "metadata": hit.record.metadata, "said": explain.said(e),
            "terms": list(dict.fromkeys(terms)), "group": explain.brief(e)["group"],
            "explanation": explain.as_dict(e)}
