"""gzip for text responses (HTML, JSON/GeoJSON, JS, CSS) when the client accepts it.

The map's initial view is mostly GeoJSON and Leaflet; compressed it is a
fraction of its raw size on a 4G phone. Small bodies, partial responses and
already encoded ones are left alone; ETags get a ``-gzip`` suffix so a cached
plain copy is never mistaken for the compressed one.
"""

from __future__ import annotations

import gzip

from flask import Flask, request

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


def init_app(app: Flask, level: int = 6) -> None:
    """Compress eligible responses of ``app`` with gzip at ``level``."""

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
        response.set_data(gzip.compress(data, compresslevel=level, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        etag, weak = response.get_etag()
        if etag:
            response.set_etag(etag + "-gzip", weak=weak)
        return response
