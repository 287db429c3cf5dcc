"""Flask extensions, created unbound and initialised in :func:`webapp.create_app`, and the store."""

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
#: per-route request limits (per process); log-ins are throttled in the store instead
#: (:class:`gridmgmt.domain.login_throttle.LoginThrottle`), so every process shares the counts
limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")


def store():
    """The app's :class:`~gridmgmt.store.repository.Store` (opened by :func:`webapp.create_app`)."""
    return current_app.extensions["gridmgmt_store"]
