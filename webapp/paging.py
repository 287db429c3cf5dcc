"""Paging of JSON lists: one way to read ``limit``/``offset`` (or Open311's ``page``/``page_size``)
and to say the total.

- :func:`parse_page` reads ``limit`` (default :data:`DEFAULT_LIMIT`, larger
  values lowered to :data:`MAX_LIMIT`) and ``offset`` (default 0); a
  non-numeric, zero or negative limit or a negative offset raises
  :class:`PagingError` (the view answers 400 in its own error format).
- :func:`parse_numbered_page` reads ``page`` (from 1) and ``page_size`` the
  same way, for Open311 GeoReport v2.
- :func:`page_envelope` shapes ``{"items", "total", "limit", "offset",
  "next", "prev"}``; :func:`add_page_headers` adds ``X-Total-Count``,
  ``X-Page-Limit``, ``X-Page-Offset`` and an RFC 8288 ``Link`` header
  (``next``/``prev``/``first``) for lists whose body format is fixed.

Paging past the end is an empty page, not an error. Links never carry an
``api_key`` parameter (a key in a URL would leak into logs and referrers).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Response, request

#: rows per page when the client does not say
DEFAULT_LIMIT = 50
#: most rows per page; a larger limit is lowered to it (the response says the effective limit)
MAX_LIMIT = 500


class PagingError(ValueError):
    """A malformed paging parameter (the message names it)."""


@dataclass(frozen=True)
class Page:
    """Which rows a client asked for: ``limit`` rows after skipping ``offset``.

    ``requested`` is the limit the client sent when it was lowered to the maximum.
    """

    limit: int
    offset: int
    requested: int | None = None


def _integer(args, name: str, default: int, minimum: int) -> int:
    text = args.get(name)
    if text is None or str(text).strip() == "":
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        raise PagingError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise PagingError(f"{name} must be at least {minimum}, got {value}")
    return value


def parse_page(
    args, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT, limit_name: str = "limit"
) -> Page:
    """The page asked for by ``limit`` and ``offset`` in ``args`` (request arguments).

    Raises
    ------
    PagingError
        ``limit`` not a whole number or below 1; ``offset`` not a whole number or negative.
    """
    limit = _integer(args, limit_name, default, 1)
    offset = _integer(args, "offset", 0, 0)
    if limit > maximum:
        return Page(maximum, offset, requested=limit)
    return Page(limit, offset)


def parse_numbered_page(
    args, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT
) -> tuple[int, Page]:
    """Open311's ``page`` (from 1) and ``page_size``, as ``(page number, Page)``.

    Raises
    ------
    PagingError
        ``page`` or ``page_size`` not a whole number or below 1.
    """
    size = parse_page(args, default=default, maximum=maximum, limit_name="page_size")
    number = _integer(args, "page", 1, 1)
    return number, Page(size.limit, (number - 1) * size.limit, size.requested)


def _url(**changes) -> str:
    args = {k: v for k, v in request.args.items() if k != "api_key"}
    args.update({k: str(v) for k, v in changes.items()})
    return f"{request.path}?{urlencode(args)}"


def page_links(page: Page, total: int, *, numbered: bool = False) -> dict[str, str]:
    """URLs of the ``first``, ``next`` and ``prev`` pages (those that exist) of this request."""

    def at(offset: int) -> str:
        if numbered:
            return _url(page=offset // page.limit + 1, page_size=page.limit)
        return _url(limit=page.limit, offset=offset)

    links = {"first": at(0)}
    if page.offset + page.limit < total:
        links["next"] = at(page.offset + page.limit)
    if page.offset > 0:
        links["prev"] = at(max(0, page.offset - page.limit))
    return links


def page_envelope(items: list, total: int, page: Page) -> dict:
    """A page as ``{"items", "total", "limit", "offset", "next", "prev"}`` (absent links: null)."""
    links = page_links(page, total)
    return {
        "items": items,
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "next": links.get("next"),
        "prev": links.get("prev"),
    }


def add_page_headers(
    response: Response, total: int, page: Page, *, numbered: bool = False
) -> Response:
    """Say the total, the effective limit and offset, and the neighbouring pages in headers."""
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Page-Limit"] = str(page.limit)
    response.headers["X-Page-Offset"] = str(page.offset)
    links = page_links(page, total, numbered=numbered)
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return response
