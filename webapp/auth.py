"""Log-in, roles and grid scope.

Sessions are Flask-Login cookies (HttpOnly, SameSite=Lax, Secure when
``GRIDMGMT_SECURE_COOKIES`` is on); passwords are salted hashes checked by
:func:`gridmgmt.domain.accounts.verify_password`; log-in attempts are
rate-limited per client address.
"""

from __future__ import annotations

from functools import cached_property, wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from gridmgmt.domain.access import ANONYMOUS, Principal
from gridmgmt.domain.accounts import api_key_client, verify_password
from gridmgmt.store.accounts import AccountStore
from webapp.extensions import csrf, limiter, login_manager, store
from webapp.i18n import gettext as _

bp = Blueprint("auth", __name__)

LOGIN_LIMIT = "10 per minute"


class Account(UserMixin):
    """The logged-in user as Flask-Login sees it."""

    def __init__(self, row: dict):
        self.id = row["id"]
        self.username = row["username"]
        self.display_name = row.get("display_name") or row["username"]
        self.role = row["role"]
        self.grid_codes = tuple(row.get("grid_codes", ()))
        self.area = row.get("area")
        self._active = bool(row.get("active", True))

    @property
    def is_active(self) -> bool:
        return self._active

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

    def can_see_grid(self, code: str | None) -> bool:
        """Grid workers see only their grids; other roles see every grid."""
        if self.role != "worker":
            return True
        return code is not None and code in self.grid_codes


def current_principal() -> Principal:
    """The principal of the current request (anonymous when nobody is logged in)."""
    if not current_user.is_authenticated:
        return ANONYMOUS
    return current_user.principal


def bound_department() -> str | None:
    """The department the logged-in dept handler is bound to (None: unbound or another role)."""
    if current_user.role != "dept" or not isinstance(current_user.id, int):
        return None
    return AccountStore(store()).department_of(current_user.id)


@login_manager.user_loader
def _load_user(user_id: str):
    try:
        row = store().user(user_id=int(user_id))
    except ValueError:
        return None
    return Account(row) if row and row["active"] else None


def presented_api_key() -> str | None:
    """The key a machine client sent: ``X-API-Key`` header or ``api_key`` parameter (Open311)."""
    return request.headers.get("X-API-Key") or request.values.get("api_key")


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


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith(("/api/", "/open311/", "/ogcapi", "/rebalance/api/")):
        return {"error": "authentication required"}, 401
    flash(_("请先登录"))
    return redirect(url_for("auth.login", next=request.full_path))


def roles_required(*roles: str):
    """View decorator: logged in and holding one of ``roles`` (403 otherwise)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after log-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("mapview.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"], error_message="too many login attempts")
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        row = store().user(username=username) if username else None
        if row and row["active"] and verify_password(row["password_hash"], password):
            login_user(Account(row))
            return redirect(_safe_next(request.args.get("next")))
        error = _("用户名或密码错误")
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))
