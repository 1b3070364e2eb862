"""Plain Python values from what the driver returns (Neo4j temporal types become ISO strings)."""

from __future__ import annotations

from typing import Any

from neo4j.time import Date, DateTime, Duration, Time


def plain(value: Any) -> Any:
    """`value` with every Neo4j temporal value turned into its ISO text, recursively."""
    if isinstance(value, DateTime | Date | Time):
        return value.iso_format()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
