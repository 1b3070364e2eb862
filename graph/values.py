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


def freeze(value: Any) -> Any:
    """`json.dumps`' `default` for Neo4j temporal values: a tagged ISO text that `thaw` turns back."""
    if isinstance(value, DateTime):
        return {"$datetime": value.iso_format()}
    if isinstance(value, Date):
        return {"$date": value.iso_format()}
    raise TypeError(f"{type(value).__name__} is not kept in a snapshot")


def thaw(item: dict[str, Any]) -> Any:
    """`json.loads`' `object_hook` undoing `freeze`: the same Neo4j value, to be written back as it was."""
    if len(item) == 1 and "$datetime" in item:
        return DateTime.from_iso_format(item["$datetime"])
    if len(item) == 1 and "$date" in item:
        return Date.from_iso_format(item["$date"])
    return item
