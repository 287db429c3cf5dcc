"""The demo 街道: a composition root that drives the domain's use cases end to end.

Unlike :mod:`gridmgmt.domain`, which reaches the store only through
repository interfaces, this package wires the concrete pieces together
(store, synthetic generator, map builders), as the CLI and the web app do.
"""

from gridmgmt.demo.builder import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoOutcome, build_demo

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "DemoOutcome", "build_demo"]
