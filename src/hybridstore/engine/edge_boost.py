"""A boost's formula (`qdrant.formula`) -> Qdrant Edge's Formula."""

from __future__ import annotations

import datetime as dt

import qdrant_edge as edge

from ..qdrant import formula as f
from ..qdrant.boost import Boost, at
from ..qdrant.filter_tree import Filter
from .edge_filters import edge_filter

_CURVES = {"exp": edge.DecayKind.Exp, "linear": edge.DecayKind.Lin, "gauss": edge.DecayKind.Gauss}


def edge_formula(boost: Boost) -> edge.Formula:
    expr, defaults = f.formula(boost)
    return edge.Formula(_expr(expr), defaults)


def _expr(e: f.Expr) -> edge.Expression:
    x = edge.Expression
    if isinstance(e, float):
        return x.Constant(e)
    if isinstance(e, f.Key):
        return x.DatetimeKey(e.path) if e.datetime else x.Variable(e.path)
    if isinstance(e, Filter):
        return x.Condition(edge_filter(e))
    if isinstance(e, dt.datetime):
        return x.Datetime(at(e))
    if isinstance(e, f.Mult):
        return x.Mult([_expr(t) for t in e.terms])
    if isinstance(e, f.Sum):
        return x.Sum([_expr(t) for t in e.terms])
    return x.Decay(_CURVES[e.curve], _expr(e.x), _expr(e.target), f.MIDPOINT, e.scale)
