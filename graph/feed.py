"""The change feed: every change of persons as a numbered event, for connected systems to follow.

An event is written in the transaction of the change it tells of and numbered there (see
`graph.queries`), so numbers follow the order of the commits and a reader that asks for the events
after the last number it saw misses none. The types:

- `person_created`: `person_id` is new;
- `record_linked`: record `uid` now belongs to `person_id` (before: `other_person_id`, or none);
- `person_merged`: `person_id` was retired into `other_person_id` (its id resolves there);
- `person_restored`: `person_id` is active again (an undone merge; it had been merged into
  `other_person_id`);
- `golden_changed`: the golden record of `person_id` changed (read the person again).

Replaying `record_linked` events from the first gives each record's person as it stands now.
"""

from __future__ import annotations

from typing import Any

from neo4j import Driver

from graph.queries import default_registry
from graph.values import plain

EVENT_TYPES = ("person_created", "record_linked", "person_merged", "person_restored", "golden_changed")


def feed_after(driver: Driver, after: int, limit: int, province: str | None = None,
               database: str = "neo4j") -> list[dict[str, Any]]:
    """The events numbered after `after`, oldest first, at most `limit` (of one province's persons when
    `province` is given)."""
    rows = default_registry().read(driver, "feed/after", database=database, after=after, limit=limit,
                                   province=province)
    return [plain(dict(r["event"])) for r in rows]


def last_event(driver: Driver, database: str = "neo4j") -> int:
    """The number of the newest event (0 before the first)."""
    return int(default_registry().read(driver, "feed/last", database=database)[0]["last"])
