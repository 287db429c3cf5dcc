"""Rebalancing: bring existing 责任网格 back into the household band with minimal change.

Households change (new towers, demolitions, more or fewer families per
building); grids drift out of the 250–500 band. Re-partitioning from
scratch would redraw every grid and re-assign many households to new grid
workers. :func:`rebalance` changes only what it must:

1. The current grids are kept as they are, except around grids out of band:
   there the partition engine's **atoms** (street blocks cut by roads, whole
   compounds, building groups; :mod:`gridmgmt.core.atoms`) are rebuilt with
   the current grid boundaries as extra cut lines, so every atom lies inside
   one grid and the atoms' regions tile each grid exactly.
2. For a grid out of band, **chains of boundary-atom moves** are searched
   (depth-first, up to three hops): an over-full grid pushes atoms to
   a neighbour, which may pass its own surplus on; an under-full grid pulls
   from a neighbour, which may pull in turn. Each hop takes atoms on the
   shared boundary, fewest households first, and never leaves a grid
   disconnected (what a moved atom cuts off goes with it). A chain that
   settles every grid it touches wins by fewest households moved; failing
   that, the one that most reduces the total distance from the band.
3. Where that is costly or impossible, the boundaries among two or three
   grids are **redrawn exhaustively** (all assignments of their atoms
   enumerated: exchanges), an over-full grid is **split** by the partition
   engine's balanced bisection or a new grid is **carved** around its new
   buildings, or an under-full grid is **merged** with a neighbour (and the
   union re-split if it is too large); the cheapest in households moved
   wins. If no arrangement of whole compounds brings a grid into band, the
   compounds of that grid and its neighbours are divided between buildings
   (``split_compounds``, reported) and the same steps run again; as the
   very last resort a grid and one or two rings of neighbours are
   re-partitioned locally. Moves no longer needed are then undone.
4. Separately (in a second thread, while the search runs: HiGHS releases
   the GIL), the same atoms are moved between the same grids by an
   **exact program** (:func:`gridmgmt.core.min_moves.min_moves`): the
   fewest households that bring every grid into band with compounds whole
   and no grid emptied, when moves (and the new grids step 3 would carve
   around new buildings, taken or not as they pay) can do it. Of the two
   answers the one with fewer grids out of band wins, then fewer compounds
   divided, fewer households moved, fewer grids added. :func:`fewest_moves`
   gives that floor over the whole 社区 as a yardstick.
5. Changed grids get the union of their atoms' regions as polygon (so the
   grids still tile the 社区 and follow roads and walls); unchanged grids keep
   their polygons and codes. New grids get the next sequence numbers after
   every code ever used (``used_codes``): retired codes are never reused.

"Households moved" counts families whose grid (and so 网格员) changes. New
buildings (given with an empty ``grid_code``) have none yet: they are
*placed*, free, wherever that helps (a new block of flats often becomes a
grid of its own), and reported apart.

:func:`move_buildings`, :func:`split_grid` and :func:`merge_grids` are the
manual edits behind the supervisor's editor. They never refuse a result
that breaks the band: ``report.violations`` lists what is wrong (out of
band, not contiguous, compound split) so the UI can show it live. They do
raise ``ValueError`` for impossible input.

Everything is deterministic for a given ``seed``, unless the exact program
runs out of its time (``EXACT_SECONDS`` of CPU, so other work on the machine
does not change the answer): then the search's answer stands alone.

The package, one concern per module (each imports only those above it):

- :mod:`.results`: :class:`RebalanceReport`, :class:`RebalanceResult`;
- :mod:`.inputs`: the validated inputs (:class:`~.inputs.Problem`);
- :mod:`.nodes`: the atoms rebuilt in the grids that may change (:class:`~.nodes.Nodes`);
- :mod:`.state`: node labels and grid totals under change (:class:`~.state.State`);
- :mod:`.chains`: chains of boundary-atom moves;
- :mod:`.restructure`: exchanges, splits, carves, merges, local re-partitions
  and dividing compounds;
- :mod:`.exact_program`: the exact program's glue and :func:`fewest_moves`;
- :mod:`.passes`: the repair loop, the revert and workload passes;
- :mod:`.assemble`: the result (codes, polygons, flags, moves, report);
- :mod:`.api`: :func:`rebalance`;
- :mod:`.manual`: :func:`move_buildings`, :func:`split_grid`, :func:`merge_grids`.
"""

from gridmgmt.core.rebalance.api import rebalance
from gridmgmt.core.rebalance.exact_program import fewest_moves
from gridmgmt.core.rebalance.manual import merge_grids, move_buildings, split_grid
from gridmgmt.core.rebalance.results import RebalanceReport, RebalanceResult

__all__ = [
    "RebalanceReport",
    "RebalanceResult",
    "fewest_moves",
    "merge_grids",
    "move_buildings",
    "rebalance",
    "split_grid",
]
