"""The incident closed loop (事件闭环): categories and states/transitions as data."""

from gridmgmt.domain.incidents.categories import Category, CategoryCatalog, load_categories
from gridmgmt.domain.incidents.workflow import TransitionError, Workflow, load_workflow

__all__ = [
    "Category",
    "CategoryCatalog",
    "TransitionError",
    "Workflow",
    "load_categories",
    "load_workflow",
]
