"""Logging in to the test app: the accounts' password, CSRF tokens, form and browser logins."""

from __future__ import annotations

import re

#: the password of every account the web fixture creates (one per role, named after it)
PASSWORD = "test-pass-1"


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form at ``path``."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str = PASSWORD):
    """Post the login form with a fresh token; the response."""
    token = csrf_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def browser_login(rp, username: str, password: str) -> None:
    """Log in through the login page of a recorded browser page and wait for the map."""
    page = rp.page
    page.goto(rp.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
