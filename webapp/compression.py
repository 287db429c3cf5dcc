"""gzip for text responses (HTML, JSON/GeoJSON, JS, CSS) when the client accepts it.

The map's initial view is mostly GeoJSON and Leaflet; compressed it is a
fraction of its raw size on a 4G phone. Small bodies, partial responses and
already encoded ones are left alone; ETags get a ``-gzip`` suffix so a cached
plain copy is never mistaken for the compressed one. A body that carries a
strong ETag (the cached map layers, lists unchanged since the last ask) is
compressed once: its gzip is kept by that ETag in a small in-process cache.
"""

from __future__ import annotations

import gzip

from flask import Flask, request

from webapp.caching import KeptValues

TYPES = {
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "application/vnd.mapbox-vector-tile",
}
MIN_BYTES = 1024
#: compressed bodies kept by their ETag (and at most this many bytes of them)
KEPT_BODIES = 256
KEPT_BYTES = 32 * 2**20


class CompressedBodies(KeptValues):
    """gzip bodies by the ETag of their plain body, least recently used first out."""

    def __init__(self, max_entries: int = KEPT_BODIES, max_bytes: int = KEPT_BYTES):
        super().__init__(max_entries, max_bytes)

    def compressed(self, key: tuple, data: bytes, level: int) -> bytes:
        """The gzip of ``data`` (whose strong ETag and length make ``key``), compressed once."""
        kept = self.get(key)
        if kept is None:
            kept = self.keep(key, gzip.compress(data, compresslevel=level, mtime=0))
        return kept


def init_app(app: Flask, level: int = 6) -> None:
    """Compress eligible responses of ``app`` with gzip at ``level``."""
    kept = CompressedBodies()

    @app.after_request
    def _gzip(response):
        if (
            response.status_code != 200
            or response.mimetype not in TYPES
            or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
        ):
            return response
        response.vary.add("Accept-Encoding")
        response.direct_passthrough = False
        data = response.get_data()
        if len(data) < MIN_BYTES:
            return response
        etag, weak = response.get_etag()
        if etag and not weak:  # the same tag is the same body: compressed once
            key = (etag, len(data), response.mimetype)
            response.set_data(kept.compressed(key, data, level))
        else:
            response.set_data(gzip.compress(data, compresslevel=level, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        if etag:
            response.set_etag(etag + "-gzip", weak=weak)
        return response
