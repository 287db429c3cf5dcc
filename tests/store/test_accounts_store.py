"""Password resets and department bindings in the store, on SQLite and PostGIS."""

from __future__ import annotations

import pytest

from gridmgmt.domain.accounts import (
    bind_department,
    create_user,
    reset_password,
    verify_password,
)
from gridmgmt.domain.errors import NotFoundError
from gridmgmt.store.accounts import AccountStore


def test_reset_password_and_department_binding(store):
    accounts = AccountStore(store)
    dept_id = create_user(store, "li", "pass-word-1", "dept")
    create_user(store, "zhang", "pass-word-1", "worker")
    new = reset_password(accounts, "li")
    assert verify_password(store.user(username="li")["password_hash"], new)
    with pytest.raises(ValueError, match="at least 8"):
        reset_password(accounts, "li", "short")
    with pytest.raises(NotFoundError):
        reset_password(accounts, "nobody", "long-enough-1")

    assert accounts.department_of(dept_id) is None
    bind_department(accounts, "li", "dept", " 环卫所 ")
    assert accounts.department_of(dept_id) == "环卫所"
    bind_department(accounts, "li", "dept", "城管执法中队")
    assert accounts.departments() == {dept_id: "城管执法中队"}
    with pytest.raises(ValueError, match="only department handlers"):
        bind_department(accounts, "zhang", "worker", "环卫所")
    with pytest.raises(ValueError, match="1-60"):
        bind_department(accounts, "li", "dept", "  ")
    with pytest.raises(NotFoundError):
        bind_department(accounts, "nobody", "dept", "环卫所")
    bind_department(accounts, "li", "dept", None)
    assert accounts.department_of(dept_id) is None and accounts.departments() == {}
