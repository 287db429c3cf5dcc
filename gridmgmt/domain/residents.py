"""Residents in the loop: report without an account, follow the case, rate it (满意度回访).

A resident's report enters the incident loop through
:func:`gridmgmt.domain.incidents.service.report_incident` as source
``居民上报`` with the reporter :data:`RESIDENT_REPORTER` (never a person's
name) in the grid that holds the place (the 未定位 queue otherwise). It
gets a short follow code (:func:`new_code`); the incident number alone
opens nothing. The contact (phone, e-mail) is personal: it is kept in
``resident_reports`` and shown only to staff who see personal fields.

The follow page shows :func:`public_case`: the state in plain words
(:data:`PUBLIC_STATES`), the steps without actors or notes, and the reply
(答复): the note given with 结案 or 不予立案. When the case is closed the
resident rates it once (:data:`RATINGS`); 不满意 makes the workflow
transition ``request_rework`` (结案 → 返工申请), which puts the case in
front of the supervisor, who reopens it (``reopen``) or keeps it closed
(``keep_closed``).

**满意率** (satisfaction rate) = (满意 + 基本满意) / rated cases, counted by
when the rating was given (see :mod:`gridmgmt.domain.incidents.kpi`).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from gridmgmt.domain.incidents.desk import CLOSED_STATES
from gridmgmt.domain.incidents.service import check_length, report_incident, transition_incident
from gridmgmt.domain.notifications import TRANSITION_EVENTS, message_for, send_safely

RESIDENT_REPORTER = "居民"
RESIDENT_SOURCE = "居民上报"
INFORMANT_SOURCE = "信息员上报"
#: rating -> (中文, English); 满意 and 基本满意 count as satisfied
RATINGS = {
    "satisfied": ("满意", "Satisfied"),
    "basic": ("基本满意", "Fairly satisfied"),
    "unsatisfied": ("不满意", "Unsatisfied"),
}
SATISFIED = ("satisfied", "basic")
#: workflow state -> what the resident reads (中文, English)
PUBLIC_STATES = {
    "reported": ("已受理", "Received"),
    "registered": ("已立案", "Registered"),
    "dispatched": ("已派遣", "Dispatched"),
    "in_progress": ("处置中", "Being handled"),
    "extension_requested": ("处置中", "Being handled"),
    "handled": ("已处置，待核查", "Handled, being checked"),
    "verified": ("已处置，待办结", "Handled, being closed"),
    "closed": ("已办结", "Closed"),
    "rejected": ("不予受理", "Not accepted"),
    "cancelled": ("已撤销", "Withdrawn"),
    "suspended": ("暂缓办理", "On hold"),
    "rework_requested": ("返工审核中", "Rework under review"),
}
#: transitions whose note is the public reply (答复) to the resident
REPLY_TRANSITIONS = ("close", "reject", "keep_closed")
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
PHONE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
COMMENT_LIMIT = 500


@dataclass(frozen=True)
class Submitted:
    """A resident's submission: the incident, its follow code, whether it is new."""

    incident: dict
    code: str
    created: bool


def new_code() -> str:
    """A random follow code of :data:`CODE_LENGTH` characters (no 0/O, 1/I/L)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_phone(text: str | None) -> str | None:
    """A mainland mobile number (11 digits, ``+86`` and separators removed), or None when empty.

    Raises ``ValueError`` for anything else.
    """
    text = re.sub(r"[\s\-()]", "", text or "")
    if not text:
        return None
    text = re.sub(r"^(\+?86)", "", text)
    if not PHONE.match(text):
        raise ValueError(f"手机号码格式不正确 (not a mobile number: {text[:20]!r})")
    return text


def clean_email(text: str | None) -> str | None:
    """An e-mail address, or None when empty; ``ValueError`` for a malformed one."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 200 or not EMAIL.match(text):
        raise ValueError("电子邮箱格式不正确 (not an e-mail address)")
    return text


def submit_report(
    repo,
    residents,
    *,
    category_code: str,
    description: str,
    lon,
    lat,
    phone: str | None = None,
    email: str | None = None,
    device: str | None = None,
    photo_ids=(),
    idempotency_key: str | None = None,
    link=None,
    notifier=None,
    fallback=None,
    now: datetime | None = None,
) -> Submitted:
    """Take a resident's report into the incident loop and give it a follow code.

    Parameters
    ----------
    repo : Store
        The incident repository.
    residents : ResidentStore
        Where follow codes and contacts are kept.
    link : callable, optional
        ``link(number, code) -> str``: the follow page's address for the
        ``accepted`` message.
    notifier, fallback : Notifier, optional
        Where the ``accepted`` message goes (and failures of it).

    Raises
    ------
    ValueError
        A bad category, description, location, phone number or e-mail address.
    """
    phone, email = clean_phone(phone), clean_email(email)
    now = now or datetime.now(UTC)
    key = f"{device or '-'}:{idempotency_key}" if idempotency_key else None
    incident, created = report_incident(
        repo,
        category_code=category_code,
        description=description,
        lon=lon,
        lat=lat,
        reporter=RESIDENT_REPORTER,
        role="resident",
        source=RESIDENT_SOURCE,
        photo_ids=list(photo_ids),
        idempotency_key=key,
        now=now,
    )
    if not created:
        stored = residents.resident_report(incident["id"])
        return Submitted(incident, stored["code"] if stored else "", False)
    code = new_code()
    residents.add_resident_report(
        {
            "incident_id": incident["id"],
            "code": code,
            "phone": phone,
            "email": email,
            "device": device,
            "created_at": now,
        }
    )
    if link is not None:
        contact = {"phone": phone, "email": email, "code": code}
        send_safely(
            notifier,
            message_for(
                "accepted", contact, number=incident["number"], link=link(incident["number"], code)
            ),
            fallback,
        )
    return Submitted(incident, code, True)


def find_case(repo, residents, number: str, code: str | None) -> tuple[dict, dict] | None:
    """``(incident, resident part)`` when ``code`` is the follow code of incident ``number``.

    None for an unknown number, a case not reported by a resident, or a
    wrong code (the same answer for all three, so numbers cannot be probed).
    """
    incident_id = residents.incident_id_by_number(number)
    stored = residents.resident_report(incident_id) if incident_id is not None else None
    given = (code or "").strip().upper()
    expected = stored["code"] if stored else "X" * CODE_LENGTH
    if not hmac.compare_digest(given.encode(), expected.encode()) or stored is None:
        return None
    return repo.incident(incident_id), stored


def public_state(state: str, lang: str = "zh") -> str:
    """The state in the resident's plain words."""
    zh, en = PUBLIC_STATES.get(state, (state, state))
    return en if lang == "en" else zh


def public_case(incident: dict, resident: dict, category: dict | None, lang: str = "zh") -> dict:
    """What the follow page shows: no actor, no internal note, no contact, no exact history geometry."""
    steps = []
    reply = None
    for h in incident["history"]:
        steps.append({"at": h["at"], "state": public_state(h["to_state"], lang)})
        if h["transition"] in REPLY_TRANSITIONS and h.get("note"):
            reply = h["note"]
    geom = incident.get("geom")
    closed = incident["state"] == "closed"
    category_name = ""
    if category:
        category_name = category["name_en"] if lang == "en" else category["name"]
    return {
        "number": incident["number"],
        "state": incident["state"],
        "state_text": public_state(incident["state"], lang),
        "category": category_name,
        "description": incident["description"],
        "created_at": incident["created_at"],
        "grid_code": incident.get("grid_code"),
        "lon": round(geom.x, 4) if geom is not None else None,
        "lat": round(geom.y, 4) if geom is not None else None,
        "steps": steps,
        "reply": reply,
        "can_rate": closed and resident.get("rating") is None,
        "rating": resident.get("rating"),
    }


def rate_case(
    repo,
    residents,
    incident: dict,
    rating: str,
    comment: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Record the resident's 回访 rating of a closed case (once); 不满意 asks for 返工.

    Returns the incident as it is afterwards. Raises ``ValueError`` for an
    unknown rating, a comment over :data:`COMMENT_LIMIT` characters, a case
    that is not closed or one rated already.
    """
    if rating not in RATINGS:
        raise ValueError(f"unknown rating {rating!r}; expected one of {', '.join(RATINGS)}")
    comment = (comment or "").strip() or None
    if comment and len(comment) > COMMENT_LIMIT:
        raise ValueError(
            f"评价内容过长：最多 {COMMENT_LIMIT} 字 (at most {COMMENT_LIMIT} characters)"
        )
    if incident["state"] != "closed":
        raise ValueError("只有已办结的问题可以评价 (only a closed case can be rated)")
    now = now or datetime.now(UTC)
    if not residents.rate(incident["id"], rating, comment, now):
        raise ValueError("该问题已评价过 (this case was rated already)")
    if rating != "unsatisfied":
        return incident
    note = "居民评价不满意" + (f"：{comment}" if comment else "")
    check_length("note", note[:1000])
    return transition_incident(
        repo,
        incident["id"],
        "request_rework",
        actor=RESIDENT_REPORTER,
        role="resident",
        note=note[:1000],
        now=now,
    )


def announce_transition(
    repo, residents, incident: dict, transition: str, link, notifier, fallback=None
) -> bool:
    """Tell the resident behind ``incident`` about a transition they hear of (派遣, 结案).

    Returns whether a message went out (nothing for staff reports, for
    transitions residents are not told about, or without a contact).
    """
    event = TRANSITION_EVENTS.get(transition)
    if event is None or notifier is None:
        return False
    contact = residents.resident_report(incident["id"])
    if contact is None:
        return False
    if event == "closed" and contact.get("rating") is not None:
        event = "closed_again"  # rated once already: no second 回访
    message = message_for(
        event, contact, number=incident["number"], link=link(incident["number"], contact["code"])
    )
    return send_safely(notifier, message, fallback)


def open_counts_by_grid(incidents: pd.DataFrame) -> dict[str | None, int]:
    """Open incidents per grid code (None: outside every grid), for the public map."""
    if incidents.empty:
        return {}
    open_rows = incidents[~incidents["state"].isin(CLOSED_STATES)]
    counts = open_rows["grid_code"].astype(object).where(open_rows["grid_code"].notna(), None)
    return {
        (k if isinstance(k, str) else None): int(v)
        for k, v in counts.value_counts(dropna=False).items()
    }
