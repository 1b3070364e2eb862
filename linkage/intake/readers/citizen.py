"""Health information a citizen reports about themselves (smoking, allergies, a blood pressure
reading) through the portal: JSON Lines, one `SourceRecord` document per line, always marked as
reported by the citizen, with its own source so that it never outranks a clinical source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from linkage.intake.readers.base import ReadItem, Rejected, build_record
from linkage.vocab import SourceKind


def read(path: Path, **_: Any) -> Iterator[ReadItem]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            position = f"{path.name}:{number}"
            try:
                fields = json.loads(line)
            except ValueError as exc:
                yield Rejected(position, f"not JSON: {exc}", line[:200])
                continue
            except RecursionError:
                yield Rejected(position, "not JSON: nested too deeply", line[:200])
                continue
            if not isinstance(fields, dict):
                yield Rejected(position, "a line must be one JSON object", line[:200])
                continue
            fields |= {"source": SourceKind.CITIZEN.value, "reported_by_citizen": True, "raw_ref": position}
            yield build_record(fields, position, line)
