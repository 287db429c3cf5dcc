"""JSON that every client can parse: missing values as ``null``, bounded nesting on input.

Tables read from the store carry pandas' missing markers (``NaN`` for a
missing text or number, ``NaT`` for a missing time). Python's ``json``
writes those as ``NaN``/``"NaT"``, which browsers refuse. This provider
writes them as ``null`` and never emits ``NaN`` or ``Infinity``; times are
ISO 8601. On input, a body nested deeper than :data:`MAX_DEPTH` (or deep
enough to exhaust the parser) is a 400, not a 500.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

#: deepest nesting of arrays/objects accepted in a request body
MAX_DEPTH = 32


def is_missing(value: Any) -> bool:
    """Whether ``value`` is None, NaN or NaT (pandas' markers for "no value")."""
    if value is None:
        return True
    try:
        return value != value  # NaN and NaT are the values not equal to themselves
    except (TypeError, ValueError):  # arrays and the like
        return False


def iso(value: Any) -> str | None:
    """An ISO 8601 text for a date or time; None for a missing one (None, NaT)."""
    return None if is_missing(value) else value.isoformat()


def _nulls_for_non_finite(obj: Any) -> Any:
    """``obj`` with every NaN/Infinity float replaced by None (dicts, lists and tuples walked)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _nulls_for_non_finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nulls_for_non_finite(v) for v in obj]
    return obj


def nesting_depth(obj: Any) -> int:
    """How deeply arrays and objects nest in parsed JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``null`` for missing values and bounded input depth."""

    @staticmethod
    def default(o: Any) -> Any:
        """Values ``json`` cannot write itself: missing times, numpy scalars, dates."""
        if is_missing(o):
            return None
        if isinstance(o, date | datetime):
            return o.isoformat()
        if hasattr(o, "item") and callable(o.item):  # numpy scalars
            return o.item()
        return DefaultJSONProvider.default(o)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs["allow_nan"] = False
        try:
            return json.dumps(obj, **kwargs)
        except ValueError:  # a NaN or Infinity somewhere: the rare case pays for the walk
            return json.dumps(_nulls_for_non_finite(obj), **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            data = json.loads(s, **kwargs)
        except RecursionError as err:
            raise BadRequest(f"JSON 嵌套层数超过 {MAX_DEPTH}") from err
        if nesting_depth(data) > MAX_DEPTH:
            raise BadRequest(f"JSON 嵌套层数超过 {MAX_DEPTH}")
        return data
