"""Errors answer inside the app's frame in Chinese (English when chosen), JSON for programs."""

from __future__ import annotations

import pytest

from tests.webapp.sessions import csrf_token


@pytest.fixture
def failing_app(app):
    """The test app with a view that raises, and exceptions answered as they are in production."""

    def boom():
        raise RuntimeError("secret detail: password=hunter2")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_not_found_page_is_in_the_frame_with_a_way_back(as_role):
    client = as_role("supervisor")
    answer = client.get("/cases/999999", headers={"Referer": "http://localhost/desk"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert 'class="topbar"' in html and "调度台" in html  # the app's own frame and menu
    assert "404 · 未找到" in html
    assert 'class="back" href="/desk"' in html


def test_error_page_in_english_when_chosen(as_role):
    client = as_role("supervisor")
    client.get("/map?lang=en")
    html = client.get("/cases/999999").get_data(as_text=True)
    assert "404 · Not found" in html and ">Back<" in html


def test_server_error_page_hides_the_exception(failing_app):
    client = failing_app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "服务器出错" in html and 'class="topbar"' in html
    assert "hunter2" not in html and "RuntimeError" not in html
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and api.get_json() == {"error": "服务器出错"}
    assert "hunter2" not in api.get_data(as_text=True)


def test_api_errors_are_json(as_role):
    client = as_role("supervisor")
    answer = client.get("/api/v1/incidents/999999")
    assert answer.status_code == 404
    assert answer.is_json and answer.get_json() == {"error": "未找到"}


def test_missing_form_token_is_explained_in_chinese(as_role):
    client = as_role("supervisor")
    answer = client.post("/logout")  # no CSRF token
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "400 · 请求有误" in html and "表单已失效，请刷新页面后重试" in html


def test_oversized_upload_is_a_413_page(app, as_role):
    client = as_role("worker")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    token = csrf_token(client, "/report")
    answer = client.post("/report", data={"csrf_token": token, "description": "x" * 5000})
    assert answer.status_code == 413
    assert "413 · 上传内容过大" in answer.get_data(as_text=True)
