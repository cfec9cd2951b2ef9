"""Haystack filter dicts: validation, and splitting into a SQL part a store can push down and a rest.

The rest is evaluated in Python with Haystack's own `document_matches_filter`, so semantics match the
reference in-memory store exactly; only conditions whose SQL meaning is identical are pushed down.
"""

from __future__ import annotations

from typing import Any

from haystack.errors import FilterError

LOGICAL = {"AND", "OR", "NOT"}
COMPARISON = {"==", "!=", ">", ">=", "<", "<=", "in", "not in"}


def validate_filters(filters: dict[str, Any] | None) -> None:
    """Raise FilterError for a malformed filter, before any data is touched."""
    if not filters:
        return
    if not isinstance(filters, dict):
        raise FilterError("filters must be a dictionary")
    if "field" in filters:
        for key in ("operator", "value"):
            if key not in filters:
                raise FilterError(f"comparison filter on {filters['field']!r} is missing its '{key}' key")
        if filters["operator"] not in COMPARISON:
            raise FilterError(f"unknown comparison operator {filters['operator']!r}")
        return
    if "operator" not in filters:
        raise FilterError("filter is missing its 'operator' key")
    if filters["operator"] not in LOGICAL:
        raise FilterError(f"logical filter needs AND, OR or NOT, got {filters['operator']!r}")
    if "conditions" not in filters:
        raise FilterError("logical filter is missing its 'conditions' key")
    if not isinstance(filters["conditions"], list):
        raise FilterError("'conditions' must be a list")
    for condition in filters["conditions"]:
        validate_filters(condition)


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _comparison_sql(condition: dict[str, Any], columns: dict[str, str]) -> str | None:
    """SQL for `==`/`in` on a promoted string column; None when the meaning could differ."""
    column = columns.get(condition["field"])
    if column is None:
        return None
    operator, value = condition["operator"], condition["value"]
    if operator == "==" and isinstance(value, str):
        return f"{column} = {sql_literal(value)}"
    if operator == "in" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        if not value:
            return "FALSE"
        return f"{column} IN ({', '.join(sql_literal(v) for v in value)})"
    return None


def split_filters(
    filters: dict[str, Any] | None, columns: dict[str, str]
) -> tuple[str | None, dict[str, Any] | None]:
    """(SQL that must hold, residual Haystack filter that must also hold); either may be None."""
    if not filters:
        return None, None
    if "field" in filters:
        sql = _comparison_sql(filters, columns)
        return (sql, None) if sql is not None else (None, filters)
    if filters["operator"] == "AND":
        sql_parts: list[str] = []
        rest: list[dict[str, Any]] = []
        for condition in filters["conditions"]:
            sql, residual = split_filters(condition, columns)
            if sql is not None:
                sql_parts.append(f"({sql})")
            if residual is not None:
                rest.append(residual)
        sql_all = " AND ".join(sql_parts) if sql_parts else None
        if not rest:
            return sql_all, None
        return sql_all, rest[0] if len(rest) == 1 else {"operator": "AND", "conditions": rest}
    if filters["operator"] == "OR":
        parts = [split_filters(c, columns) for c in filters["conditions"]]
        if parts and all(sql is not None and residual is None for sql, residual in parts):
            return " OR ".join(f"({sql})" for sql, _ in parts), None
    return None, filters


def scope_filter(scopes: list[str] | set[str] | tuple[str, ...]) -> dict[str, Any]:
    """The retrieval filter that keeps an asker inside the scopes they may see."""
    return {"field": "meta.scope", "operator": "in", "value": sorted(set(scopes))}


def and_filters(*filters: dict[str, Any] | None) -> dict[str, Any] | None:
    present = [f for f in filters if f]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return {"operator": "AND", "conditions": present}
