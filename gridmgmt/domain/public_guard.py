"""Abuse limits of the public report page: per-device and per-address budgets, a proof-of-work.

**Budgets.** Reports are counted per device (a random id the browser keeps)
and per client address, in the store (the ``login_failures`` counters of
:mod:`gridmgmt.store.login_failures`, under ``report-device:`` and
``report-address:`` keys), so every web process shares them:
:data:`DEVICE_BUDGET` reports per device and :data:`ADDRESS_BUDGET` per
address within :data:`REPORT_WINDOW`; wrong follow codes are counted per
address too (:data:`FOLLOW_BUDGET` per :data:`FOLLOW_WINDOW`).

**Challenge.** Before a report the page asks for a challenge: a token
``v1.<expires>.<nonce>.<bits>.<signature>`` signed with the app's secret
(HMAC-SHA256). The browser finds a number ``n`` such that
``sha256("<token>:<n>")`` begins with ``bits`` zero bits (about 2**bits
hashes, a fraction of a second on a phone); the server checks the
signature, the expiry, the work and that the token was not used before.
No third-party service is involved.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from gridmgmt.domain.login_throttle import LoginFailureRepository

DEVICE_BUDGET = 5
ADDRESS_BUDGET = 30
REPORT_WINDOW = timedelta(hours=1)
FOLLOW_BUDGET = 30
FOLLOW_WINDOW = timedelta(minutes=10)
CHALLENGE_BITS = 14
CHALLENGE_LIFETIME = timedelta(minutes=20)
MAX_KEY_PART = 100


class ChallengeError(ValueError):
    """A challenge answer that is missing, forged, expired, wrong or used twice."""


def _budget_lock(budget: int, window: timedelta):
    def lock(count: int, first_at: datetime) -> datetime | None:
        return first_at + window if count >= budget else None

    return lock


class PublicGuard:
    """Budgets and challenges of the public pages over the store's counters.

    Parameters
    ----------
    repo : LoginFailureRepository
        Where counts are kept (:class:`gridmgmt.store.login_failures.LoginFailureStore`).
    secret : bytes
        The key challenges are signed with.
    clock : callable, optional
        Returns the current aware datetime (default: now, UTC).
    bits : int
        Leading zero bits the proof-of-work must reach.
    """

    def __init__(
        self,
        repo: LoginFailureRepository,
        secret: bytes,
        clock: Callable[[], datetime] | None = None,
        bits: int = CHALLENGE_BITS,
    ):
        self.repo = repo
        self.secret = secret if isinstance(secret, bytes) else str(secret).encode()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.bits = bits

    # ------------------------------------------------------------ budgets
    @staticmethod
    def report_keys(device: str | None, address: str | None) -> list[str]:
        """The counters a report from ``device`` at ``address`` is counted under."""
        keys = ["report-address:" + (address or "unknown")[:MAX_KEY_PART]]
        if device:
            keys.append("report-device:" + device[:MAX_KEY_PART])
        return keys

    def report_retry_after(self, device: str | None, address: str | None) -> int | None:
        """Seconds until another report is taken from ``device``/``address``; None: now."""
        return self._retry_after(self.report_keys(device, address))

    def count_report(self, device: str | None, address: str | None) -> None:
        """Count one report against the device's and the address's budgets."""
        now = self.clock()
        self.repo.forget(now - timedelta(hours=24), now)
        for key in self.report_keys(device, address):
            budget = DEVICE_BUDGET if key.startswith("report-device:") else ADDRESS_BUDGET
            self.repo.record_failure(
                key,
                now,
                window_start=now - REPORT_WINDOW,
                lock=_budget_lock(budget, REPORT_WINDOW),
            )

    def follow_retry_after(self, address: str | None) -> int | None:
        """Seconds until ``address`` may try another follow code; None: now."""
        return self._retry_after(["follow-address:" + (address or "unknown")[:MAX_KEY_PART]])

    def count_wrong_code(self, address: str | None) -> None:
        """Count a wrong follow code tried from ``address``."""
        now = self.clock()
        self.repo.record_failure(
            "follow-address:" + (address or "unknown")[:MAX_KEY_PART],
            now,
            window_start=now - FOLLOW_WINDOW,
            lock=_budget_lock(FOLLOW_BUDGET, FOLLOW_WINDOW),
        )

    def _retry_after(self, keys: list[str]) -> int | None:
        now = self.clock()
        until = self.repo.locked_until(keys, now)
        if until is None:
            return None
        return max(1, math.ceil((until - now).total_seconds()))

    # ------------------------------------------------------------ challenge
    def _sign(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def challenge(self) -> str:
        """A new signed challenge token."""
        expires = int((self.clock() + CHALLENGE_LIFETIME).timestamp())
        body = f"v1.{expires}.{secrets.token_hex(8)}.{self.bits}"
        return f"{body}.{self._sign(body)}"

    def check_challenge(self, token: str | None, answer) -> None:
        """Accept a solved challenge once; :class:`ChallengeError` otherwise."""
        if not token or not isinstance(token, str) or len(token) > 200:
            raise ChallengeError("missing challenge")
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != "v1":
            raise ChallengeError("malformed challenge")
        body, signature = ".".join(parts[:4]), parts[4]
        if not hmac.compare_digest(self._sign(body), signature):
            raise ChallengeError("forged challenge")
        expires, bits = int(parts[1]), int(parts[3])
        now = self.clock()
        if now.timestamp() > expires:
            raise ChallengeError("expired challenge")
        if not solves(token, answer, bits):
            raise ChallengeError("wrong answer to the challenge")
        used = self.repo.record_failure(
            "challenge:" + parts[2],
            now,
            window_start=now - CHALLENGE_LIFETIME,
            lock=lambda count, first_at: first_at + CHALLENGE_LIFETIME,
        )
        if used > 1:
            raise ChallengeError("challenge used already")


def solves(token: str, answer, bits: int) -> bool:
    """Whether ``sha256("<token>:<answer>")`` starts with ``bits`` zero bits."""
    text = str(answer)
    if not text.isdigit() or len(text) > 12:
        return False
    digest = hashlib.sha256(f"{token}:{text}".encode()).digest()
    value = int.from_bytes(digest, "big")
    return value >> (256 - bits) == 0


def solve(token: str, bits: int) -> int:
    """The smallest answer to a challenge (what the browser computes; for tests and clients)."""
    n = 0
    while not solves(token, n, bits):
        n += 1
    return n
