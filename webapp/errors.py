"""Error answers: pages inside the app's frame in the user's language, JSON for programs.

Every 4xx/5xx the app gives (aborts, refused uploads, rate limits, CSRF
failures, unexpected exceptions) goes through :func:`error_answer`. Pages
show a title and the reason in Chinese (English when chosen) with a way
back; requests to the JSON APIs get ``{"error": reason}`` with the same
status. A 500 never shows the exception: it is logged, the page says so.
Blueprints with a protocol of their own (OGC API, Open311) keep their own
error format.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from webapp.i18n import gettext as _

#: paths answered in JSON (programs, not people)
API_PREFIXES = ("/api/", "/open311/", "/ogcapi", "/rebalance/api/", "/tiles/")
#: the title of each status, in Chinese (the source language of the UI)
TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "未找到",
    405: "不支持此操作",
    409: "数据已被他人修改",
    413: "上传内容过大",
    415: "不支持的文件类型",
    429: "请求过于频繁，请稍后再试",
    500: "服务器出错",
}


#: library messages (Flask-WTF, Flask-Limiter) in the UI's source language
LIBRARY_MESSAGES = {
    "The CSRF token is missing.": "表单已失效，请刷新页面后重试",
    "The CSRF token has expired.": "表单已失效，请刷新页面后重试",
    "The CSRF token is invalid.": "表单已失效，请刷新页面后重试",
    "The CSRF tokens do not match.": "表单已失效，请刷新页面后重试",
    "The CSRF session token is missing.": "表单已失效，请刷新页面后重试",
}


def wants_json() -> bool:
    """Whether the request is a program's (API path, or JSON asked for and no page)."""
    if request.path.startswith(API_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def wants_html() -> bool:
    """``f=html``, or no ``f`` and an Accept header preferring HTML to JSON (a browser).

    For doors that answer both (the OGC API landing page): JSON stays the default.
    """
    fmt = request.args.get("f")
    if fmt is not None:
        return fmt == "html"
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]
    )


def _way_back() -> str:
    """The referring page when it is on this site, else the map."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if referrer and parts.netloc == request.host and parts.path != request.path:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def _reason(err: HTTPException) -> str | None:
    """What to tell the user besides the title: the view's own description, translated."""
    from werkzeug import exceptions

    stock = getattr(exceptions, type(err).__name__, None)
    description = err.description
    if not description or (stock is not None and description == stock.description):
        return None  # werkzeug's generic English text says no more than the title
    return _(LIBRARY_MESSAGES.get(description, description))


def error_answer(err: HTTPException):
    """The answer for ``err``: JSON for programs, a page in the app's frame for people."""
    status = err.code or 500
    title = _(TITLES.get(status, err.name))
    reason = None if status >= 500 else _reason(err)  # nothing of an exception reaches clients
    if wants_json():
        response = jsonify(error=reason or title)
        response.status_code = status
    else:
        html = render_template(
            "error.html", status=status, title=title, reason=reason, back=_way_back()
        )
        response = Flask.response_class(html, status=status, mimetype="text/html")
    if status == 405 and hasattr(err, "valid_methods") and err.valid_methods:
        response.headers["Allow"] = ", ".join(err.valid_methods)
    retry = getattr(err, "retry_after", None)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


def init_app(app: Flask) -> None:
    """Register :func:`error_answer` for every HTTP error and for unexpected exceptions.

    Flask logs an unexpected exception before it wraps it in an
    :class:`~werkzeug.exceptions.InternalServerError`, which lands here too.
    """
    app.register_error_handler(HTTPException, error_answer)
