"""One reader per source format; each streams `SourceRecord`s and `Rejected` items.

A reader is `read(path, **options) -> Iterator[SourceRecord | Rejected]`: a record that fails
validation is yielded as `Rejected` with its position and reason, and a file that cannot be read at
all raises `SourceError`. `linkage.intake.registry` ties each to its source kind.
"""

from linkage.errors import SourceError
from linkage.intake.readers.base import Reader, ReadItem, Rejected
from linkage.intake.readers.citizen import read as read_citizen
from linkage.intake.readers.commune831 import read as read_commune831
from linkage.intake.readers.fhir import read as read_fhir
from linkage.intake.readers.hospital130 import read as read_hospital130
from linkage.intake.readers.immunization import read as read_immunization
from linkage.intake.readers.mapped_csv import load_mapping
from linkage.intake.readers.mapped_csv import read as read_mapped_csv
from linkage.intake.readers.population import read as read_population

__all__ = [
    "ReadItem",
    "Reader",
    "Rejected",
    "SourceError",
    "load_mapping",
    "read_citizen",
    "read_commune831",
    "read_fhir",
    "read_hospital130",
    "read_immunization",
    "read_mapped_csv",
    "read_population",
]
