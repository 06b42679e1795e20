"""`HybridTranslator`: LangChain's structured queries (a self-querying retriever's output) in
hybridstore's filter language, for `SelfQueryRetriever(structured_query_translator=...)`."""

from __future__ import annotations

from typing import Any

from langchain_core.structured_query import (
    Comparator,
    Comparison,
    Operation,
    Operator,
    StructuredQuery,
    Visitor,
)

OPERATORS = {Operator.AND: "$and", Operator.OR: "$or"}
COMPARATORS = {Comparator.EQ: "$eq", Comparator.NE: "$ne", Comparator.GT: "$gt",
               Comparator.GTE: "$gte", Comparator.LT: "$lt", Comparator.LTE: "$lte",
               Comparator.IN: "$in", Comparator.NIN: "$nin", Comparator.CONTAIN: "$contains",
               Comparator.LIKE: "$text"}  # Qdrant's word match: the closest to "like"


class HybridTranslator(Visitor):
    allowed_operators = (Operator.AND, Operator.OR, Operator.NOT)
    allowed_comparators = tuple(COMPARATORS)

    def visit_operation(self, operation: Operation) -> dict[str, Any]:
        parts = [arg.accept(self) for arg in operation.arguments]
        if operation.operator == Operator.NOT:  # none of them may match
            return {"$not": parts[0] if len(parts) == 1 else {"$or": parts}}
        return {OPERATORS[operation.operator]: parts}

    def visit_comparison(self, comparison: Comparison) -> dict[str, Any]:
        return {comparison.attribute: {COMPARATORS[comparison.comparator]: _value(comparison.value)}}

    def visit_structured_query(self, structured_query: StructuredQuery) -> tuple[str, dict[str, Any]]:
        flt = structured_query.filter
        return structured_query.query, ({"filter": flt.accept(self)} if flt is not None else {})


def _value(value: object) -> object:
    """Dates come as {"date": "2024-01-01", "type": "date"}: hybridstore compares ISO strings."""
    if isinstance(value, dict) and value.get("type") in ("date", "datetime"):
        return value.get("date") or value.get("datetime")
    return value
