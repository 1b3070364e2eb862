"""Query text reaches the driver only through the query loader (graph/queries.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRIVER_CALLS = re.compile(r"(?<!uvicorn)\.(execute_query|run)\(\s*[\"'fr]")


def test_no_package_hands_literal_cypher_to_the_driver() -> None:
    offenders = []
    for package in ("linkage", "graph", "api", "analytics"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "queries.py" and path.parent.name == "graph":
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if DRIVER_CALLS.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
