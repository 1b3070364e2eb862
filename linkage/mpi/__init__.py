"""The master person index: person ids, the plan of a linking run, clustering, golden records.

A linking run's scored pairs become a `LinkPlan` (persons to create, links with their state,
possible duplicates, retired ids); reviewers' decisions (`Reviewed`) always win over the model.
"""

from linkage.mpi.conflicts import CONFLICTS, conflicts, conflicts_among
from linkage.mpi.golden import FREQUENT_FIELDS, NEWEST_FIELDS, REGISTRY_FIELDS, golden_record
from linkage.mpi.ids import PERSON_ID_PATTERN, IdFactory, new_person_id, seeded_person_ids, valid_person_id
from linkage.mpi.plan import Link, LinkPlan, Reviewed, plan_incremental, plan_rebuild

__all__ = [
    "CONFLICTS",
    "FREQUENT_FIELDS",
    "NEWEST_FIELDS",
    "PERSON_ID_PATTERN",
    "REGISTRY_FIELDS",
    "IdFactory",
    "Link",
    "LinkPlan",
    "Reviewed",
    "conflicts",
    "conflicts_among",
    "golden_record",
    "new_person_id",
    "plan_incremental",
    "plan_rebuild",
    "seeded_person_ids",
    "valid_person_id",
]
