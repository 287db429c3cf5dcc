"""Incident photos sent to the web app: accepted types, size limit, where they are kept.

Photos are JPEG or PNG files of at most 10 MB, recognised by their first
bytes, kept under the instance's uploads directory as ``photos/<id>`` with a
random id. The JSON API (:mod:`webapp.incidents_api`) and the form pages
(:mod:`webapp.casework`) both store them here and answer refusals in their
own way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from flask import current_app

MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}


def photos_dir() -> Path:
    """The folder the app keeps photos in."""
    return Path(current_app.config["GRIDMGMT_SETTINGS"].uploads_dir) / "photos"


def photo_suffix(data: bytes) -> str | None:
    """``.jpg`` or ``.png`` for the bytes of a JPEG or PNG image; None for anything else."""
    return next((ext for magic, ext in PHOTO_TYPES.items() if data.startswith(magic)), None)


def write_photo(data: bytes, suffix: str) -> str:
    """Keep an accepted photo under a new random id (with ``suffix``); return the id."""
    photo_id = uuid.uuid4().hex + suffix
    folder = photos_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / photo_id).write_bytes(data)
    return photo_id


def photos_exist(ids: Iterable) -> bool:
    """Whether every id names a stored photo (ids are plain file names, nothing else)."""
    folder = photos_dir()
    return all(isinstance(i, str) and "/" not in i and (folder / i).is_file() for i in ids)


def incident_photo_ids(incident: dict) -> list[str]:
    """Every photo id attached to the incident's history, in order."""
    out: list[str] = []
    for h in incident.get("history", ()):
        out.extend(p for p in h.get("photo_ids") or () if p not in out)
    return out
