"""Notification adapters: an SMS gateway over HTTP, e-mail over SMTP, and a log file.

Each implements :class:`gridmgmt.domain.notifications.Notifier`. Which ones
run is configuration (:func:`notifier_from_env`), never code:

========================== ==============================================
``GRIDMGMT_SMS_URL``       the gateway's URL; messages with a phone number
                           are POSTed there as JSON
``GRIDMGMT_SMS_TEMPLATE``  the JSON body, with ``{phone}`` and ``{text}``
                           placeholders (default
                           ``{"phone": "{phone}", "text": "{text}"}``)
``GRIDMGMT_SMS_TOKEN``     sent as ``Authorization: Bearer <token>`` if set
``GRIDMGMT_SMTP_HOST``     the SMTP server; messages with an e-mail address
                           go there (``GRIDMGMT_SMTP_PORT``, default 25;
                           ``GRIDMGMT_SMTP_FROM``; ``GRIDMGMT_SMTP_USER`` and
                           ``GRIDMGMT_SMTP_PASSWORD``; ``GRIDMGMT_SMTP_STARTTLS=1``)
``GRIDMGMT_NOTIFY_LOG``    the log file (default ``<instance>/notifications.log``)
========================== ==============================================

Without a gateway or a server the log adapter writes what would be sent:
the embedded default.
"""

from __future__ import annotations

import json
import smtplib
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from gridmgmt.domain.notifications import Message, NotificationError

DEFAULT_SMS_TEMPLATE = '{"phone": "{phone}", "text": "{text}"}'
TIMEOUT_SECONDS = 10


class LogNotifier:
    """Writes every message as one JSON line to a file (what would be sent, and to whom)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        """Append the message to the log file."""
        record = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "event": message.event,
            "number": message.number,
            "phone": message.phone,
            "email": message.email,
            "text": message.text,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


class HttpSmsNotifier:
    """POSTs messages with a phone number to an SMS gateway as JSON.

    Parameters
    ----------
    url : str
        The gateway's address.
    template : str
        The JSON body with ``{phone}`` and ``{text}`` placeholders (filled
        JSON-escaped).
    token : str, optional
        A bearer token for the ``Authorization`` header.
    """

    def __init__(self, url: str, template: str = DEFAULT_SMS_TEMPLATE, token: str | None = None):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"GRIDMGMT_SMS_URL must be an http(s) URL, not {url!r}")
        self.url, self.template, self.token = url, template, token
        self.body("13800000000", "x")  # a template that is not JSON fails here, not per message

    def body(self, phone: str, text: str) -> bytes:
        """The request body for one message."""

        def escaped(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]

        filled = self.template.replace("{phone}", escaped(phone)).replace("{text}", escaped(text))
        try:
            json.loads(filled)
        except ValueError as err:
            raise ValueError(f"GRIDMGMT_SMS_TEMPLATE is not JSON once filled: {err}") from None
        return filled.encode("utf-8")

    def send(self, message: Message) -> None:
        """Send the text to the message's phone number (nothing without one)."""
        if not message.phone:
            return
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.url, data=self.body(message.phone, message.text), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                if not 200 <= response.status < 300:
                    raise NotificationError(f"SMS gateway answered {response.status}")
        except urllib.error.HTTPError as err:
            raise NotificationError(f"SMS gateway answered {err.code}") from None
        except (urllib.error.URLError, OSError) as err:
            raise NotificationError(f"SMS gateway unreachable: {err}") from None


class SmtpNotifier:
    """Sends messages with an e-mail address over SMTP."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = "gridmgmt@localhost",
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
    ):
        self.host, self.port, self.sender = host, int(port), sender
        self.user, self.password, self.starttls = user, password, starttls

    def send(self, message: Message) -> None:
        """Mail the text to the message's address (nothing without one)."""
        if not message.email:
            return
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.email
        mail["Subject"] = message.subject
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as err:
            raise NotificationError(f"SMTP server refused or unreachable: {err}") from None


class RoutingNotifier:
    """Sends each message to every configured channel; the log records them all.

    A message goes to the SMS gateway when it has a phone number and a
    gateway is set, to the SMTP server when it has an e-mail address and a
    server is set, and always to the log.
    """

    def __init__(self, log: LogNotifier, sms: HttpSmsNotifier | None = None, email=None):
        self.log, self.sms, self.email = log, sms, email

    def send(self, message: Message) -> None:
        """Send on every channel that applies; the first channel error is raised after the rest ran."""
        errors = []
        for channel, wanted in ((self.sms, message.phone), (self.email, message.email)):
            if channel is not None and wanted:
                try:
                    channel.send(message)
                except NotificationError as err:
                    errors.append(err)
        self.log.send(message)
        if errors:
            raise errors[0]


def notifier_from_env(env: Mapping[str, str], instance_dir: str | Path) -> RoutingNotifier:
    """The notifier the environment configures (see the module docstring).

    Raises ``ValueError`` for a malformed URL, port or template.
    """
    log = LogNotifier(env.get("GRIDMGMT_NOTIFY_LOG") or Path(instance_dir) / "notifications.log")
    sms = None
    if env.get("GRIDMGMT_SMS_URL"):
        sms = HttpSmsNotifier(
            env["GRIDMGMT_SMS_URL"],
            env.get("GRIDMGMT_SMS_TEMPLATE") or DEFAULT_SMS_TEMPLATE,
            env.get("GRIDMGMT_SMS_TOKEN") or None,
        )
    email = None
    if env.get("GRIDMGMT_SMTP_HOST"):
        port = env.get("GRIDMGMT_SMTP_PORT") or "25"
        if not port.isdigit():
            raise ValueError(f"GRIDMGMT_SMTP_PORT must be a port number, not {port!r}")
        email = SmtpNotifier(
            env["GRIDMGMT_SMTP_HOST"],
            int(port),
            env.get("GRIDMGMT_SMTP_FROM") or "gridmgmt@localhost",
            env.get("GRIDMGMT_SMTP_USER") or None,
            env.get("GRIDMGMT_SMTP_PASSWORD") or None,
            (env.get("GRIDMGMT_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes", "on"),
        )
    return RoutingNotifier(log, sms, email)
