"""Messages to residents about their reports, behind one interface.

A :class:`Notifier` sends a :class:`Message` (to a phone number, an e-mail
address or both). The adapters live in :mod:`gridmgmt.io.notifiers`: an SMS
gateway over HTTP, e-mail over SMTP, and a log that writes what would be
sent (the embedded default); which one runs is configuration, never code.

Messages are sent on three events of a resident's case (templates in
Chinese, :data:`TEMPLATES`):

- ``accepted``: the report was received (已受理), with its number, follow
  code and link;
- ``dispatched``: the case went to the department that handles it (已派遣);
- ``closed``: the case is finished (已办结), with the 回访 link asking for a rating.

A failing adapter never loses a report or a transition: :func:`send_safely`
writes the failure to the fallback notifier (the log) instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: event -> message template (Chinese; ``{number}``, ``{code}``, ``{link}``, ``{category}``)
TEMPLATES = {
    "accepted": "【网格化管理】您反映的问题已受理，编号{number}，查询码{code}。查看进度：{link}",
    "dispatched": "【网格化管理】您反映的问题（编号{number}）已派遣至职能部门处置。查看进度：{link}",
    "closed": (
        "【网格化管理】您反映的问题（编号{number}）已办结。请对处理结果进行评价"
        "（满意/基本满意/不满意）：{link}"
    ),
    # closed again after a 返工 request the resident rated already (a rating is given once)
    "closed_again": "【网格化管理】您反映的问题（编号{number}）已重新办结。查看结果：{link}",
}
#: the workflow transitions residents are told about, by event
TRANSITION_EVENTS = {"dispatch": "dispatched", "close": "closed", "keep_closed": "closed"}


@dataclass(frozen=True)
class Message:
    """One message to a resident: where to (phone and/or e-mail), which event, the text."""

    event: str
    text: str
    phone: str | None = None
    email: str | None = None
    number: str | None = None

    @property
    def subject(self) -> str:
        """An e-mail subject line for the message."""
        return f"您反映的问题 {self.number or ''}".strip()


class Notifier(Protocol):
    """Sends messages; raises :class:`NotificationError` when the channel refuses one."""

    def send(self, message: Message) -> None: ...


class NotificationError(RuntimeError):
    """A message the channel did not accept (gateway error, SMTP refusal, network failure)."""


def render(event: str, **fields) -> str:
    """The text of ``event``'s template filled with ``fields``.

    Raises
    ------
    KeyError
        An unknown event.
    """
    return TEMPLATES[event].format(**fields)


def message_for(event: str, contact: dict, *, number: str, link: str) -> Message | None:
    """The message for ``event`` to a resident's ``contact`` (phone, email, code), or None.

    None when the resident left neither a phone number nor an e-mail address.
    """
    if not (contact.get("phone") or contact.get("email")):
        return None
    text = render(event, number=number, code=contact.get("code", ""), link=link)
    return Message(
        event=event,
        text=text,
        phone=contact.get("phone"),
        email=contact.get("email"),
        number=number,
    )


def send_safely(notifier: Notifier | None, message: Message | None, fallback=None) -> bool:
    """Send ``message``; on failure hand it to ``fallback`` (noting the error) and return False.

    Nothing to send (no notifier or no message) returns False as well.
    """
    if notifier is None or message is None:
        return False
    try:
        notifier.send(message)
        return True
    except NotificationError as err:
        if fallback is not None:
            fallback.send(
                Message(
                    event=f"{message.event} (failed: {err})",
                    text=message.text,
                    phone=message.phone,
                    email=message.email,
                    number=message.number,
                )
            )
        return False
