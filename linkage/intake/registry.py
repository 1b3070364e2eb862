"""The sources HoSo reads: one entry per source kind, and nothing about a source anywhere else.

Each entry names its reader, the content types an upload of it may declare, whether it can be
uploaded through the API, and where the synthetic generator writes it. Adding a source is one
entry here, one reader, and one `SourceKind`.

    for kind, files, mapping in synthetic_inputs(world):
        ingest(kind, files, data_dir, mapping=mapping)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from linkage.intake.readers import (
    Reader,
    read_citizen,
    read_commune831,
    read_fhir,
    read_hospital130,
    read_immunization,
    read_mapped_csv,
    read_population,
)
from linkage.vocab import SourceKind

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
XML_TYPES = frozenset({"application/xml", "text/xml"})
FHIR_TYPES = frozenset({"application/json", "application/fhir+json", "application/x-ndjson", "application/ndjson",
                        "application/fhir+ndjson"})
ANY_TYPE = "application/octet-stream"  # what browsers and clients send for any file: accepted for every kind


@dataclass(frozen=True)
class Source:
    """A source kind: how its files are read, uploaded, and laid out by the synthetic generator."""

    kind: SourceKind
    read: Reader
    content_types: frozenset[str]
    uploadable: bool = True
    synthetic: str | None = None  # glob of its files in a synthetic world
    synthetic_mapping: str | None = None  # the column mapping of those files (kind csv)
    needs_mapping: bool = False  # its files are read through a column mapping (`--mapping`)


SOURCES: dict[SourceKind, Source] = {source.kind: source for source in (
    Source(SourceKind.POPULATION, read_population, CSV_TYPES, synthetic="population/*.csv"),
    Source(SourceKind.COMMUNE831, read_commune831, XML_TYPES, synthetic="commune831/*.xml"),
    Source(SourceKind.HOSPITAL130, read_hospital130, XML_TYPES, synthetic="hospital130/*.xml"),
    Source(SourceKind.IMMUNIZATION, read_immunization, CSV_TYPES, synthetic="immunization/*.csv"),
    Source(SourceKind.FHIR, read_fhir, FHIR_TYPES, synthetic="fhir/*.ndjson"),
    Source(SourceKind.CSV, read_mapped_csv, CSV_TYPES, synthetic="csv/*.csv",
           synthetic_mapping="csv/clinic.mapping.toml", needs_mapping=True),
    # A citizen's self-report arrives through the portal, never as an uploaded file.
    Source(SourceKind.CITIZEN, read_citizen, frozenset({"application/json"}), uploadable=False),
)}
UPLOADABLE: tuple[SourceKind, ...] = tuple(kind for kind, source in SOURCES.items() if source.uploadable)


def synthetic_files(world: Path, kind: SourceKind) -> list[Path]:
    """The files of `kind` in a synthetic world (`linkage.synth.generate`), sorted."""
    pattern = SOURCES[kind].synthetic
    return sorted(world.glob(pattern)) if pattern else []


def synthetic_inputs(world: Path, kinds: Iterable[SourceKind] | None = None,
                     ) -> Iterator[tuple[SourceKind, list[Path], Path | None]]:
    """Each source of a synthetic world with files, in `kinds`' order (every source by default):
    the kind, its files, and its column mapping when it needs one."""
    for kind in kinds if kinds is not None else SOURCES:
        files = synthetic_files(world, kind)
        if files:
            mapping = SOURCES[kind].synthetic_mapping
            yield kind, files, world / mapping if mapping else None
