"""Log-in, sessions, API keys and the principal each request acts as.

Sessions are Flask-Login cookies (HttpOnly, SameSite=Lax, Secure when
``GRIDMGMT_SECURE_COOKIES`` is on) that carry the account's id and session
version (``"<id>:<version>"``); the store raises the version on log-out,
password reset, role, area or department change and disabling, after which
every earlier cookie of the account (remember-me cookies too) is refused.
Passwords are salted hashes checked by
:func:`gridmgmt.domain.accounts.authenticate`; failed log-ins are throttled
per account and per client address by
:class:`gridmgmt.domain.login_throttle.LoginThrottle`. Machine clients send
an API key in the ``X-API-Key`` header (or, on ``/open311/`` only, the
``api_key`` parameter Open311 clients use).
"""

from __future__ import annotations

from functools import cached_property
from urllib.parse import unquote

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from gridmgmt.domain.access import ANONYMOUS, VOLUNTEER_ROLES, Principal
from gridmgmt.domain.accounts import api_key_client, authenticate
from gridmgmt.domain.login_throttle import LoginThrottle
from gridmgmt.store.accounts import AccountStore
from gridmgmt.store.login_failures import LoginFailureStore
from webapp.errors import API_PREFIXES, wants_html
from webapp.extensions import csrf, login_manager, store
from webapp.i18n import gettext as _

bp = Blueprint("auth", __name__)

#: the only path prefix where a key is accepted in the query string or form (Open311 needs it)
KEY_PARAMETER_PREFIX = "/open311/"


class Account(UserMixin):
    """The logged-in user as Flask-Login sees it."""

    def __init__(self, row: dict):
        self.id = row["id"]
        self.username = row["username"]
        self.display_name = row.get("display_name") or row["username"]
        self.role = row["role"]
        self.grid_codes = tuple(row.get("grid_codes", ()))
        self.area = row.get("area")
        self.session_version = row.get("session_version", 1)
        self._active = bool(row.get("active", True))

    @property
    def is_active(self) -> bool:
        return self._active

    def get_id(self) -> str:
        """What the session cookie holds: ``"<id>:<session version>"``."""
        return f"{self.id}:{self.session_version}"

    @cached_property
    def principal(self) -> Principal:
        """Who this account is for the access policy (:mod:`gridmgmt.domain.access`)."""
        department = None
        if self.role == "dept" and isinstance(self.id, int):
            department = AccountStore(store()).department_of(self.id)
        return Principal(
            self.role,
            self.username,
            grid_codes=self.grid_codes,
            department=department,
            area=self.area,
        )


def current_principal() -> Principal:
    """The principal of the current request (anonymous when nobody is logged in)."""
    if not current_user.is_authenticated:
        return ANONYMOUS
    return current_user.principal


@login_manager.user_loader
def _load_user(session_id: str):
    """The account of a session cookie, unless disabled or the cookie's version is stale."""
    user_id, _sep, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    row = store().user(user_id=int(user_id))
    if row is None or not row["active"] or row["session_version"] != int(version):
        return None
    return Account(row)


def presented_api_key() -> str | None:
    """The key a machine client sent.

    The ``X-API-Key`` header everywhere; the ``api_key`` parameter only
    under :data:`KEY_PARAMETER_PREFIX` (Open311 clients send it so),
    because keys in URLs end up in logs and browser histories.
    """
    key = request.headers.get("X-API-Key")
    if key or not request.path.startswith(KEY_PARAMETER_PREFIX):
        return key
    return request.values.get("api_key")


@login_manager.request_loader
def _load_api_client(req):
    """Machine clients authenticate per request with an API key instead of a session."""
    client = api_key_client(store(), presented_api_key())
    if client is None:
        return None
    row = {"id": f"key:{client['id']}", "username": client["client"], "role": client["role"]}
    if client["role"] == "worker":  # a worker's own key inherits that worker's grids and area
        user = store().user(username=client["client"])
        if user and user["role"] == "worker" and user["active"]:
            row["grid_codes"] = user.get("grid_codes", ())
            row["area"] = user.get("area")
    return Account(row)


def csrf_unless_api_key():
    """CSRF-protect every state-changing request made with a session cookie.

    Requests that carry an API key and no session are made by programs, not
    browsers, and cannot be forged cross-site, so they skip the token check.
    """
    if (
        presented_api_key()
        and current_app.config.get("SESSION_COOKIE_NAME", "session") not in request.cookies
    ):
        return
    csrf.protect()


OUTBOX_USER_HEADER = "X-Outbox-User"


def refuse_queued_for_someone_else():
    """Refuse a queued item replayed in another account's session.

    A phone shared by two workers keeps each one's offline items; a replay
    that fires while the other is logged in must wait for its own worker
    (401, which the outbox treats as "log in first") instead of being
    recorded in the wrong name.
    """
    queued_by = unquote(request.headers.get(OUTBOX_USER_HEADER, ""))  # percent-encoded UTF-8
    if queued_by and current_user.is_authenticated and current_user.username != queued_by:
        return {"error": "queued by another account; waits for its own log-in"}, 401


@login_manager.unauthorized_handler
def _unauthorized():
    browser_page = request.path.startswith("/ogcapi") and wants_html()  # its HTML landing page
    if request.path.startswith(API_PREFIXES) and not browser_page:
        return {"error": "authentication required"}, 401
    flash(_("请先登录"))
    return redirect(url_for("auth.login", next=request.full_path))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after log-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("mapview.index")


def login_throttle() -> LoginThrottle:
    """The throttle over the store's failed log-in counts."""
    return LoginThrottle(LoginFailureStore(store()))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", error=None)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr  # the client's, behind GRIDMGMT_TRUSTED_PROXIES proxies
    throttle = login_throttle()
    wait = throttle.retry_after(username, address)
    if wait is not None:
        html = render_template("login.html", error=_("登录尝试过多，请稍后再试"))
        return html, 429, {"Retry-After": str(wait)}
    row = authenticate(store(), username, password)
    if row is None:
        throttle.failed(username, address)
        return render_template("login.html", error=_("用户名或密码错误")), 401
    throttle.succeeded(username)
    login_user(Account(row))
    if row["role"] in VOLUNTEER_ROLES and not request.args.get("next"):
        return redirect(url_for("volunteers.page"))  # volunteers have no map: their phone page
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout():
    """End every session of the account (all its devices), then this one."""
    if isinstance(current_user.id, int):
        AccountStore(store()).end_sessions(current_user.username)
    logout_user()
    return redirect(url_for("auth.login"))
