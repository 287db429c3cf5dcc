"""Notification adapters against real local servers: an HTTP SMS gateway and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gridmgmt.domain.notifications import (
    Message,
    NotificationError,
    message_for,
    render,
    send_safely,
)
from gridmgmt.io.notifiers import (
    HttpSmsNotifier,
    LogNotifier,
    RoutingNotifier,
    SmtpNotifier,
    notifier_from_env,
)

TEXT = render(
    "closed", number="2026-000007", code="K7P3QX", link="https://x.cn/r/2026-000007?c=K7P3QX"
)


@pytest.fixture
def gateway():
    """A real HTTP server on a free port that records what it is sent; answers 500 on /fail."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
            )
            self.send_response(500 if self.path == "/fail" else 200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port; yields (port, received messages)."""
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_templates_are_chinese_and_carry_the_link():
    assert "已办结" in TEXT and "满意" in TEXT and "https://x.cn/r/2026-000007?c=K7P3QX" in TEXT
    assert message_for("accepted", {"code": "A"}, number="1", link="l") is None  # no contact


def test_sms_gateway_posts_json_with_the_template(gateway):
    url, received = gateway
    template = '{"mobile": "{phone}", "content": "{text}", "sign": "网格"}'
    sms = HttpSmsNotifier(url + "/send", template, token="s3cret")
    sms.send(Message("closed", 'say "hi"\n' + TEXT, phone="13912345678", number="2026-000007"))
    assert len(received) == 1
    got = received[0]
    assert got["path"] == "/send" and got["headers"]["Authorization"] == "Bearer s3cret"
    assert got["body"] == {"mobile": "13912345678", "content": 'say "hi"\n' + TEXT, "sign": "网格"}
    sms.send(Message("closed", TEXT, email="a@b.cn"))  # no phone: nothing sent
    assert len(received) == 1


def test_a_failing_gateway_is_an_error_and_the_log_keeps_the_message(gateway, tmp_path):
    url, _received = gateway
    log = LogNotifier(tmp_path / "n.log")
    routing = RoutingNotifier(log, sms=HttpSmsNotifier(url + "/fail"))
    message = Message("closed", TEXT, phone="13912345678", number="2026-000007")
    with pytest.raises(NotificationError, match="500"):
        routing.send(message)
    assert send_safely(routing, message, log) is False
    lines = [json.loads(x) for x in (tmp_path / "n.log").read_text(encoding="utf-8").splitlines()]
    assert [x["event"] for x in lines][-1].startswith("closed (failed: SMS gateway answered 500")
    unreachable = HttpSmsNotifier("http://127.0.0.1:9/none")
    with pytest.raises(NotificationError):
        unreachable.send(message)


def test_smtp_delivers_the_chinese_text(smtp_server):
    port, received = smtp_server
    mail = SmtpNotifier("127.0.0.1", port, sender="grid@example.cn")
    mail.send(Message("closed", TEXT, email="resident@example.cn", number="2026-000007"))
    assert len(received) == 1
    envelope = received[0]
    assert envelope.rcpt_tos == ["resident@example.cn"]
    from email import message_from_bytes, policy

    parsed = message_from_bytes(envelope.content, policy=policy.default)
    assert "已办结" in parsed.get_content() and "2026-000007" in parsed["Subject"]


def test_configuration_picks_the_channels(gateway, smtp_server, tmp_path):
    url, received = gateway
    port, mails = smtp_server
    default = notifier_from_env({}, tmp_path)
    assert default.sms is None and default.email is None
    default.send(Message("accepted", TEXT, phone="13912345678"))
    assert "13912345678" in (tmp_path / "notifications.log").read_text(encoding="utf-8")
    env = {
        "GRIDMGMT_SMS_URL": url,
        "GRIDMGMT_SMTP_HOST": "127.0.0.1",
        "GRIDMGMT_SMTP_PORT": str(port),
        "GRIDMGMT_NOTIFY_LOG": str(tmp_path / "other.log"),
    }
    both = notifier_from_env(env, tmp_path)
    both.send(Message("closed", TEXT, phone="13912345678", email="r@example.cn"))
    assert len(received) == 1 and len(mails) == 1
    assert (tmp_path / "other.log").exists()
    with pytest.raises(ValueError):
        notifier_from_env({"GRIDMGMT_SMS_URL": "ftp://x"}, tmp_path)
    with pytest.raises(ValueError):
        notifier_from_env({"GRIDMGMT_SMS_URL": url, "GRIDMGMT_SMS_TEMPLATE": "{phone"}, tmp_path)
    with pytest.raises(ValueError):
        notifier_from_env({"GRIDMGMT_SMTP_HOST": "h", "GRIDMGMT_SMTP_PORT": "x"}, tmp_path)
