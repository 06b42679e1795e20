"""A boost's formula (`qdrant.formula`) -> qdrant-client's FormulaQuery (servers since Qdrant
1.14; qdrant-client's local mode evaluates it too, `qdrant_client.hybrid.formula`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from qdrant_client import models

from ..errors import ConfigurationError
from ..qdrant import formula as f
from ..qdrant.boost import Boost, at
from ..qdrant.filter_tree import Filter
from ..qdrant.query import Boosted
from .client_filters import client_filter
from .requests import Query, QueryBatch, Request

FORMULA_SINCE = (1, 14)  # the first Qdrant server with formula queries


def boosted(request: Request[Any]) -> bool:
    """Whether `request` sends a formula query (a boost is always a plan's last stage)."""
    plans = [request.plan] if isinstance(request, Query) else request.plans if isinstance(request, QueryBatch) else []
    return any(isinstance(p.root, Boosted) for p in plans)


def check_version(version: str) -> None:
    """Refuse a boost on a server older than FORMULA_SINCE, before its query is sent (a version
    not read as x.y is let through: the server answers the query itself)."""
    found = re.match(r"(\d+)\.(\d+)", version)
    if found and (int(found[1]), int(found[2])) < FORMULA_SINCE:
        raise ConfigurationError(f"boost= needs a Qdrant server {FORMULA_SINCE[0]}.{FORMULA_SINCE[1]} or later "
                                 f"(formula queries); this server runs {version}: upgrade it, or search "
                                 "without boost=")


def client_formula(boost: Boost) -> models.FormulaQuery:
    expr, defaults = f.formula(boost)
    return models.FormulaQuery(formula=_expr(expr), defaults=defaults)


def _expr(e: f.Expr) -> models.Expression:
    if isinstance(e, float):
        return e
    if isinstance(e, f.Key):
        return models.DatetimeKeyExpression(datetime_key=e.path) if e.datetime else e.path
    if isinstance(e, Filter):
        return client_filter(e)
    if isinstance(e, dt.datetime):
        return models.DatetimeExpression(datetime=at(e))
    if isinstance(e, f.Mult):
        return models.MultExpression(mult=[_expr(t) for t in e.terms])
    if isinstance(e, f.Sum):
        return models.SumExpression(sum=[_expr(t) for t in e.terms])
    params = models.DecayParamsExpression(x=_expr(e.x), target=_expr(e.target), scale=e.scale,
                                          midpoint=f.MIDPOINT)
    if e.curve == "linear":
        return models.LinDecayExpression(lin_decay=params)
    if e.curve == "gauss":
        return models.GaussDecayExpression(gauss_decay=params)
    return models.ExpDecayExpression(exp_decay=params)
