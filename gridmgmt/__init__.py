"""gridmgmt: 网格化管理 (grid-based community management) for Chinese cities."""

__version__ = "0.1.0"
