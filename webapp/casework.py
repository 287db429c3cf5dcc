"""Helpers shared by the worker, desk and department pages: photo forms and transitions.

Which incidents a page may show is the access policy's answer
(:func:`webapp.policy.visible_incident`: 404 outside the user's scope, so ids
cannot be probed).
"""

from __future__ import annotations

from flask import abort, flash
from flask_login import current_user

from gridmgmt.domain.errors import ConflictError
from gridmgmt.domain.incidents import TransitionError
from gridmgmt.domain.incidents.service import transition_incident
from webapp.extensions import store
from webapp.i18n import gettext as _
from webapp.photos import MAX_PHOTO_BYTES, photo_suffix, write_photo
from webapp.policy import visible_incident


def save_photo(file) -> str:
    """Store an uploaded JPEG/PNG and return its id; ``ValueError`` for anything else."""
    data = file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValueError(_("照片不能超过 10 MB"))
    suffix = photo_suffix(data)
    if suffix is None:
        raise ValueError(_("照片必须是 JPEG 或 PNG 图片"))
    return write_photo(data, suffix)


def transition_from_form(incident_id: int, form, files) -> bool:
    """Apply the transition a posted form asks for; flash the outcome and return success.

    The form carries ``transition``, ``expected_version``, optional ``note``,
    ``department`` (dispatch) and a ``photo`` file.
    """
    visible_incident(incident_id)
    name = form.get("transition", "")
    try:
        version = int(form.get("expected_version", ""))
    except ValueError:
        abort(400, description="expected_version must be a whole number")
    photo_ids = []
    upload = files.get("photo")
    try:
        if upload is not None and upload.filename:
            photo_ids.append(save_photo(upload))
        department = (form.get("department") or "").strip() or None if name == "dispatch" else None
        incident = transition_incident(
            store(),
            incident_id,
            name,
            actor=current_user.username,
            role=current_user.role,
            expected_version=version,
            note=(form.get("note") or "").strip() or None,
            photo_ids=photo_ids,
            department=department,
        )
    except TransitionError as err:
        if err.reason == "role":
            abort(403)
        flash(_("操作未完成") + "：" + str(err))
        return False
    except ConflictError:
        flash(_("该事件已被他人处理，请刷新后重试"))
        return False
    except ValueError as err:
        flash(_("操作未完成") + "：" + str(err))
        return False
    flash(_("已完成") + "：" + incident["number"])
    return True
