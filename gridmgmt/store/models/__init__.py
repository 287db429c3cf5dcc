"""Database tables (SQLAlchemy 2 declarative models), one module per concept.

- :mod:`~gridmgmt.store.models.base`: the declarative ``Base``;
- :mod:`~gridmgmt.store.models.areas`: 区, 街道, 社区 and the versioned grids;
- :mod:`~gridmgmt.store.models.layers`: compounds, buildings, roads,
  facilities and import runs;
- :mod:`~gridmgmt.store.models.accounts`: roles, users, their grids and
  departments, API keys;
- :mod:`~gridmgmt.store.models.incidents`: categories, incidents, history;
- :mod:`~gridmgmt.store.models.patrols`: patrols, their points, the 民情日记;
- :mod:`~gridmgmt.store.models.proposals`: grid change proposals;
- :mod:`~gridmgmt.store.models.household_visits`: household changes made on visits.
- :mod:`~gridmgmt.store.models.residents`: residents' follow codes and 回访, 零报告.

Importing this package registers every table on ``Base.metadata`` (the
migrations compare against it). Tables refer to each other by table name in
their foreign keys, so the modules import only the base, never each other.
"""

from gridmgmt.store.models.accounts import (
    ApiKey,
    LoginFailure,
    RateLimitCounter,
    Role,
    User,
    UserDepartment,
    UserGrid,
)
from gridmgmt.store.models.areas import Community, District, Grid, Street
from gridmgmt.store.models.base import Base
from gridmgmt.store.models.household_visits import CHANGE_SOURCES, HouseholdChange
from gridmgmt.store.models.incidents import Incident, IncidentCategory, IncidentHistory
from gridmgmt.store.models.layers import (
    LAYER_MODELS,
    Building,
    Compound,
    Facility,
    ImportRun,
    Road,
)
from gridmgmt.store.models.patrols import DiaryEntry, Patrol, PatrolIncident, PatrolPoint
from gridmgmt.store.models.proposals import (
    PROPOSAL_KINDS,
    PROPOSAL_STATUSES,
    GridProposal,
    GridProposalGrid,
    GridProposalMove,
)
from gridmgmt.store.models.residents import ResidentReport, ZeroReport

__all__ = [
    "CHANGE_SOURCES",
    "LAYER_MODELS",
    "PROPOSAL_KINDS",
    "PROPOSAL_STATUSES",
    "ApiKey",
    "Base",
    "Building",
    "Community",
    "Compound",
    "DiaryEntry",
    "District",
    "Facility",
    "Grid",
    "GridProposal",
    "GridProposalGrid",
    "GridProposalMove",
    "HouseholdChange",
    "ImportRun",
    "LoginFailure",
    "RateLimitCounter",
    "Incident",
    "IncidentCategory",
    "IncidentHistory",
    "Patrol",
    "PatrolIncident",
    "PatrolPoint",
    "ResidentReport",
    "Road",
    "Role",
    "Street",
    "User",
    "UserDepartment",
    "UserGrid",
    "ZeroReport",
]
