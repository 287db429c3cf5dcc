"""Tables of the web app's work pages: which department a department handler works for."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models import Base


class UserDepartment(Base):
    """A ``dept`` account bound to one department (职能部门); unbound handlers see every department."""

    __tablename__ = "user_departments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    department: Mapped[str] = mapped_column(String(60))
