"""Flask extensions, created unbound and initialised in :func:`webapp.create_app`, and the store."""

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()


def rate_limit() -> str:
    """Requests one client address may make to the whole app (``GRIDMGMT_RATE_LIMIT``)."""
    return current_app.config.get("GRIDMGMT_RATE_LIMIT") or "1000000 per day"


def rate_limit_exempt() -> bool:
    """No limit configured, the app's own static files, or the health check."""
    return not current_app.config.get("GRIDMGMT_RATE_LIMIT") or request.endpoint in (
        "static",
        "mapview.vendor",
        "overview.healthz",
    )


#: one limit per client address over the whole app (``GRIDMGMT_RATE_LIMIT``, e.g.
#: ``"600 per minute"``; unset: none), counted in the store's ``rate_limit_counters``
#: (:mod:`gridmgmt.store.rate_limits`, storage ``gridmgmt://``) so every web
#: process shares the counts; log-ins are throttled in the store as well
#: (:class:`gridmgmt.domain.login_throttle.LoginThrottle`)
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    application_limits=[rate_limit],
    application_limits_exempt_when=rate_limit_exempt,
)


def store():
    """The app's :class:`~gridmgmt.store.repository.Store` (opened by :func:`webapp.create_app`)."""
    return current_app.extensions["gridmgmt_store"]
