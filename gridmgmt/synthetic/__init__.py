"""Generated data: the demo 街道 and benchmark layouts (our own code, seeded)."""

from gridmgmt.synthetic.street import (
    SyntheticStreet,
    generate_blocks,
    generate_street,
    load_street,
    save_street,
)

__all__ = ["SyntheticStreet", "generate_blocks", "generate_street", "load_street", "save_street"]
