"""HTTP caching of JSON answers: ETags, ``If-None-Match`` -> 304, and a bounded in-process cache.

- :func:`conditional` gives a finished 200 response a strong ETag (a hash
  of its body) and ``Cache-Control: private, max-age=N``, and answers 304
  without a body when the client already holds that version. The gzip
  layer (:mod:`webapp.compression`) later adds ``-gzip`` to the ETag of a
  compressed body; a client revalidating with that tag is recognised too.
- :class:`BodyCache` keeps serialised bodies (with their ETag) under a
  key, least recently used first out, bounded by entries and bytes. The
  map's GeoJSON layers are kept per layer, zoom, bbox, data revision and
  the asking principal's grid visibility
  (:func:`gridmgmt.domain.access.grid_visibility_key`), so one principal's
  view is never served to another who sees differently.

Responses are ``private``: shared caches (proxies) must not keep them,
since what a list holds depends on who asks; ``Vary`` names the
credentials (session cookie, ``X-API-Key``) as well.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import Response, request

#: seconds a client may reuse a list without asking again
LIST_MAX_AGE = 10
#: seconds a client may reuse a map layer without asking again
LAYER_MAX_AGE = 60
VARY = ("Cookie", "X-API-Key", "Accept-Encoding")


def etag_of(data: bytes) -> str:
    """A strong ETag for a body: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:32]


def _add_vary(response: Response) -> None:
    for name in VARY:
        response.vary.add(name)


def conditional(response: Response, *, max_age: int = LIST_MAX_AGE, etag: str | None = None):
    """``response`` with an ETag and private caching, or 304 when the client holds it already.

    Only 200 responses are touched. ``etag`` defaults to the hash of the body.
    """
    if response.status_code != 200:
        return response
    etag = etag or etag_of(response.get_data())
    _add_vary(response)
    response.cache_control.private = True
    response.cache_control.max_age = max_age
    held = request.if_none_match
    for tag in (etag, etag + "-gzip"):
        if held.contains(tag) or held.contains_weak(tag):
            not_modified = Response(status=304)
            not_modified.set_etag(tag)
            _add_vary(not_modified)
            not_modified.cache_control.private = True
            not_modified.cache_control.max_age = max_age
            return not_modified
    response.set_etag(etag)
    return response


class KeptValues:
    """Values kept under keys, least recently used first out, bounded by entries and bytes.

    Parameters
    ----------
    max_entries : int
        At most this many values are kept.
    max_bytes : int
        At most this many bytes of values are kept (a larger value is not kept).
    """

    def __init__(self, max_entries: int = 256, max_bytes: int = 64 * 2**20):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def size_of(self, value) -> int:
        """How many bytes ``value`` counts for."""
        return len(value)

    def get(self, key: Hashable):
        """The value kept under ``key``, or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def keep(self, key: Hashable, value):
        """Keep ``value`` under ``key`` (unless it is larger than the whole budget); returns it."""
        size = self.size_of(value)
        if size > self.max_bytes:
            return value
        with self._lock:
            if key in self._entries:
                self._bytes -= self._sizes.pop(key)
                del self._entries[key]
            self._entries[key] = value
            self._sizes[key] = size
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                dropped, _ = self._entries.popitem(last=False)
                self._bytes -= self._sizes.pop(dropped)
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._bytes = 0


class BodyCache(KeptValues):
    """Serialised response bodies with their ETags (``(body, etag)`` entries)."""

    def size_of(self, value) -> int:
        return len(value[0])

    def put(self, key: Hashable, body: bytes) -> tuple[bytes, str]:
        """Keep ``body`` under ``key``; returns ``(body, etag)``."""
        return self.keep(key, (body, etag_of(body)))


class KeptDrawings(KeptValues):
    """Drawn map layers (:class:`webapp.feature_json.DrawnFeatures`) by what they show."""

    def size_of(self, value) -> int:
        return value.nbytes

    def put(self, key: Hashable, drawn):
        """Keep ``drawn`` under ``key``; returns it."""
        return self.keep(key, drawn)
