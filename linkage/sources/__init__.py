"""Readers, one per source format; each streams `SourceRecord`s and `Rejected` items.

    for item in READERS[SourceKind.POPULATION](Path("registry.csv")):
        ...
"""

from __future__ import annotations

from linkage.sources import citizen, commune831, fhir, hospital130, immunization, mapped_csv, population
from linkage.sources.base import Reader, ReadItem, Rejected, SourceError
from linkage.vocab import SourceKind

READERS: dict[SourceKind, Reader] = {
    SourceKind.POPULATION: population.read,
    SourceKind.COMMUNE831: commune831.read,
    SourceKind.HOSPITAL130: hospital130.read,
    SourceKind.IMMUNIZATION: immunization.read,
    SourceKind.FHIR: fhir.read,
    SourceKind.CSV: mapped_csv.read,
    SourceKind.CITIZEN: citizen.read,
}

__all__ = ["READERS", "ReadItem", "Reader", "Rejected", "SourceError"]
