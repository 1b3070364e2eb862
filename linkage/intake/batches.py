"""Ingestion: source files in, an immutable batch out (Parquet + quarantine + manifest + inputs).

A batch lives in `DATA/batches/<batch_id>/`:
- `records.parquet`: one row per accepted record, identity fields flat, the whole record as JSON;
- `quarantine.jsonl`: one line per rejected record (file, position, reason, excerpt), and one per
  invalid value left out of a record that was kept (its `record_id` set, the reason "value dropped: …");
- `inputs/`: the original files, byte for byte;
- `manifest.json`: kind, files with sha256 and size, counts, mapping, creation time.

The batch id is derived from the kind and the inputs' checksums, so ingesting the same files twice
finds the existing batch instead of creating a duplicate. A batch is written in a temporary folder
and renamed into place at the end: a crash leaves no half-written batch.

    summary = ingest(SourceKind.POPULATION, [Path("registry.csv")], data_dir)
    summary.accepted, summary.quarantined
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from linkage.errors import IngestError, SourceError
from linkage.intake.readers import Rejected
from linkage.intake.records import SourceRecord
from linkage.intake.registry import SOURCES
from linkage.vocab import IdKind, SourceKind

log = logging.getLogger(__name__)

CHUNK = 5_000
PROGRESS_EVERY = 2_000
BATCHES = "batches"
SET_ASIDE = "set_aside.json"  # the note of a batch kept out of linking, with why

RECORD_SCHEMA = pa.schema([
    ("source", pa.string()), ("source_system", pa.string()), ("record_id", pa.string()),
    ("batch_id", pa.string()), ("raw_ref", pa.string()),
    ("name_as_written", pa.string()), ("family_name", pa.string()), ("middle_name", pa.string()),
    ("given_name", pa.string()), ("birth_date", pa.date32()), ("birth_precision", pa.string()),
    ("sex", pa.string()), ("personal_id", pa.string()), ("cmnd", pa.string()), ("bhxh", pa.string()),
    ("insurance_cards", pa.list_(pa.string())), ("facility_patient_ids", pa.list_(pa.string())),
    ("other_ids", pa.list_(pa.string())),
    ("phones", pa.list_(pa.string())),
    ("address_text", pa.string()), ("province_code", pa.string()), ("district_code", pa.string()),
    ("commune_code", pa.string()), ("code_list", pa.string()),
    ("permanent_address_text", pa.string()), ("permanent_province_code", pa.string()),
    ("permanent_commune_code", pa.string()), ("permanent_code_list", pa.string()), ("postcode", pa.string()),
    ("household_code", pa.string()), ("household_relation", pa.string()),
    ("mother_name", pa.string()), ("mother_personal_id", pa.string()), ("caregiver_name", pa.string()),
    ("caregiver_phone", pa.string()), ("reported_by_citizen", pa.bool_()), ("payload", pa.string()),
])  # fmt: skip



@dataclass
class BatchSummary:
    """What an ingestion did: counts per outcome, and where the batch is."""

    batch_id: str
    kind: str
    files: list[dict[str, Any]]
    read: int
    accepted: int
    quarantined: int
    created_at: str
    already_ingested: bool = False
    reasons: dict[str, int] = field(default_factory=dict)
    values_dropped: int = 0  # invalid values left out of records that were kept (each in the quarantine)
    warnings: int = 0  # records kept whole that a strict reader would refuse (each noted in the quarantine)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def flatten(record: SourceRecord) -> dict[str, Any]:
    """The identity columns of a record as stored in `records.parquet`."""
    current = record.address("current") or (record.addresses[0] if record.addresses else None)
    permanent = record.address("permanent")
    mother = next((r for r in record.related if r.role == "mother"), None)
    caregiver = next((r for r in record.related if r.role in ("caregiver", "mother")), None)
    return {
        "source": record.source.value, "source_system": record.source_system, "record_id": record.record_id,
        "batch_id": record.batch_id, "raw_ref": record.raw_ref, "name_as_written": record.name_as_written,
        "family_name": record.family_name, "middle_name": record.middle_name, "given_name": record.given_name,
        "birth_date": record.birth_date,
        "birth_precision": record.birth_precision.value if record.birth_precision else None,
        "sex": record.sex.value if record.sex else None,
        "personal_id": record.identifier(IdKind.PERSONAL_ID), "cmnd": record.identifier(IdKind.CMND),
        "bhxh": record.identifier(IdKind.BHXH),
        "insurance_cards": [i.value for i in record.identifiers if i.kind is IdKind.INSURANCE_CARD],
        "facility_patient_ids": [f"{i.scope}|{i.value}" for i in record.identifiers
                                 if i.kind is IdKind.FACILITY_PATIENT],
        "other_ids": [f"{i.scope or i.kind.value}|{i.value}" for i in record.identifiers
                      if i.kind in (IdKind.OTHER, IdKind.PASSPORT)],
        "phones": record.phones,
        "address_text": current.text if current else None,
        "province_code": current.province_code if current else None,
        "district_code": current.district_code if current else None,
        "commune_code": current.commune_code if current else None,
        "code_list": current.code_list.value if current and current.code_list else None,
        "permanent_address_text": permanent.text if permanent else None,
        "permanent_province_code": permanent.province_code if permanent else None,
        "permanent_commune_code": permanent.commune_code if permanent else None,
        "permanent_code_list": permanent.code_list.value if permanent and permanent.code_list else None,
        "postcode": (current.postcode if current else None) or (permanent.postcode if permanent else None),
        "household_code": record.household_code, "household_relation": record.household_relation,
        "mother_name": mother.name if mother else None,
        "mother_personal_id": next((i.value for i in mother.identifiers if i.kind is IdKind.PERSONAL_ID), None)
        if mother else None,
        "caregiver_name": caregiver.name if caregiver else None,
        "caregiver_phone": caregiver.phone if caregiver else None,
        "reported_by_citizen": record.reported_by_citizen,
        "payload": record.model_dump_json(exclude_none=True),
    }  # fmt: skip


def reason_key(reason: str) -> str:
    """A reason with its particular values blanked, for counting rejections by kind.

    >>> reason_key("encounters.0.main_icd10: unknown ICD-10 code 'Q99.99X'")
    "encounters.N.main_icd10: unknown ICD-10 code '…'"
    """
    return re.sub(r"\.\d+\.", ".N.", re.sub(r"'[^']*'", "'…'", reason))[:120]


def batch_id_for(kind: SourceKind, checksums: list[str], mapping_sha: str | None) -> str:
    """The id of the batch made from these inputs: the same inputs always give the same id."""
    digest = hashlib.sha256("|".join([kind.value, *sorted(checksums), mapping_sha or ""]).encode())
    return f"{kind.value}-{digest.hexdigest()[:16]}"


def batches_dir(data_dir: Path) -> Path:
    return data_dir / BATCHES


def read_manifest(batch_dir: Path) -> dict[str, Any]:
    return json.loads((batch_dir / "manifest.json").read_text())


Progress = Callable[[int, int, int], None]


def ingest(kind: SourceKind, paths: list[Path], data_dir: Path, mapping: Path | None = None,
           progress: Progress | None = None) -> BatchSummary:
    """Read, validate and store `paths` as one batch; see the module docstring.

    `progress(read, accepted, quarantined)` is called every few thousand records and at the end.
    """
    if not paths:
        raise IngestError("no input files given")
    files: list[dict[str, Any]] = []
    for path in paths:
        if path.is_dir():
            raise IngestError(f"{path}: is a folder: name the files in it (as {path}/*.csv)")
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        try:
            files.append({"name": path.name, "sha256": sha256_file(path), "size": path.stat().st_size})
        except OSError as exc:
            raise IngestError(f"{path}: cannot be read: {exc.strerror}") from exc
    mapping_sha = sha256_file(mapping) if mapping is not None and mapping.is_file() else None
    batch_id = batch_id_for(kind, [f["sha256"] for f in files], mapping_sha)
    root = batches_dir(data_dir)
    final = root / batch_id
    if (final / "manifest.json").exists():
        manifest = read_manifest(final)
        return BatchSummary(**{**manifest["summary"], "already_ingested": True})
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(root)
        tmp = root / f".tmp-{batch_id}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        (tmp / "inputs").mkdir(parents=True)
    except OSError as exc:
        raise IngestError(f"data directory {root} is not writable: {exc.strerror}") from exc
    try:
        summary = _write_batch(kind, paths, mapping, batch_id, files, tmp, progress)
        with open(tmp / "manifest.json", "w") as fh:
            json.dump({"batch_id": batch_id, "kind": kind.value, "summary": summary.as_json(),
                       "mapping_sha256": mapping_sha}, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.rename(final)
    except SourceError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise IngestError(str(exc)) from exc
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise IngestError(f"could not write batch {batch_id} under {root}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("batch %s: %d accepted, %d quarantined", batch_id, summary.accepted, summary.quarantined)
    return summary


def _remove_abandoned(root: Path) -> None:
    """Delete the temporary folders of ingestions whose process died (killed, or the machine stopped)."""
    for tmp in root.glob(".tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _write_batch(
    kind: SourceKind, paths: list[Path], mapping: Path | None, batch_id: str, files: list[dict[str, Any]], tmp: Path,
    progress: Progress | None = None,
) -> BatchSummary:
    reader = SOURCES[kind].read
    read = accepted = quarantined = dropped = warned = 0
    reasons: dict[str, int] = {}
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    with pq.ParquetWriter(tmp / "records.parquet", RECORD_SCHEMA, compression="zstd") as writer, \
            open(tmp / "quarantine.jsonl", "w", encoding="utf-8") as quarantine:
        for path in paths:
            shutil.copyfile(path, tmp / "inputs" / path.name)
            if mapping is not None:
                shutil.copyfile(mapping, tmp / "inputs" / f"mapping-{mapping.name}")
            for read_item in _items(reader, path, mapping):
                read += 1
                if progress is not None and read % PROGRESS_EVERY == 0:
                    progress(read, accepted, quarantined)
                item = read_item
                if isinstance(item, SourceRecord) and item.record_id in seen:
                    item = Rejected(item.raw_ref, f"duplicate record id {item.record_id!r} in this batch", "")
                if isinstance(item, Rejected):
                    quarantined += 1
                    key = reason_key(item.reason)
                    reasons[key] = reasons.get(key, 0) + 1
                    quarantine.write(json.dumps({"file": path.name, "position": item.position,
                                                 "reason": item.reason, "excerpt": item.excerpt},
                                                ensure_ascii=False) + "\n")
                    continue
                seen.add(item.record_id)
                for reason in item.dropped:  # the record is kept; the value it could not keep is not lost
                    dropped += 1
                    note = {"file": path.name, "position": item.raw_ref, "record_id": item.record_id,
                            "reason": f"value dropped: {reason}", "excerpt": ""}
                    quarantine.write(json.dumps(note, ensure_ascii=False) + "\n")
                for reason in item.warnings:
                    warned += 1
                    note = {"file": path.name, "position": item.raw_ref, "record_id": item.record_id,
                            "reason": f"warning: {reason}", "excerpt": ""}
                    quarantine.write(json.dumps(note, ensure_ascii=False) + "\n")
                item.batch_id = batch_id
                rows.append(flatten(item))
                accepted += 1
                if len(rows) >= CHUNK:
                    writer.write_table(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA))
                    rows.clear()
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA))
    if progress is not None:
        progress(read, accepted, quarantined)
    return BatchSummary(batch_id=batch_id, kind=kind.value, files=files, read=read, accepted=accepted,
                        quarantined=quarantined, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        reasons=reasons, values_dropped=dropped, warnings=warned)


def _items(reader: Any, path: Path, mapping: Path | None) -> Iterator[SourceRecord | Rejected]:
    """The reader's items; a failure it did not foresee is the file's `SourceError` (cause kept), so that
    the ingestion ends with a reason instead of leaving its caller (a job, a command) half done."""
    try:
        yield from reader(path, mapping=mapping)
    except (SourceError, OSError):
        raise
    except Exception as exc:
        log.exception("reading %s", path.name)
        raise SourceError(f"{path.name} cannot be read: {type(exc).__name__}: {exc}") from exc


def list_batches(data_dir: Path) -> list[dict[str, Any]]:
    """The manifests of every complete batch, oldest first; `set_aside` holds the note of a batch set
    aside (None for the others)."""
    root = batches_dir(data_dir)
    if not root.exists():
        return []
    manifests = []
    for folder in root.iterdir():
        # A `.tmp-` folder is an ingestion under way: it is renamed to its batch id once its manifest is
        # written, possibly between this loop's test and its read, so only finished folders are read.
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            manifests.append(read_manifest(folder) | {"set_aside": _set_aside_note(folder)})
        except FileNotFoundError:
            continue
    return sorted(manifests, key=lambda m: (m["summary"]["created_at"], m["batch_id"]))


# When each batch was made, by its folder: a manifest never changes once its folder has its name. A
# server links one self-report after another, each a batch of its own, and reading every manifest to
# order them cost 52 µs a batch at each of a link's three reads (60 ms at 381 batches, and growing).
_created: dict[str, str] = {}
_created_lock = threading.Lock()


def batch_ranks(data_dir: Path) -> dict[str, str]:
    """Every complete batch not set aside, oldest first, with the key that orders them (when it was
    made, then its id): the order in which a record in several batches keeps its newest version. The
    batches `list_batches` gives, each manifest read once per process."""
    root = batches_dir(data_dir)
    if not root.exists():
        return {}
    ranks = []
    with os.scandir(root) as entries:
        folders = [e.path for e in entries if not e.name.startswith(".") and e.is_dir()]
    for folder in folders:
        with _created_lock:
            created = _created.get(folder)
        if created is None:
            try:
                created = str(read_manifest(Path(folder))["summary"]["created_at"])
            except FileNotFoundError:  # not a batch (or no longer one)
                continue
            with _created_lock:
                _created[folder] = created
        if not os.path.exists(os.path.join(folder, SET_ASIDE)):
            batch_id = os.path.basename(folder)
            ranks.append((created, batch_id))
    return {batch_id: f"{created}|{batch_id}" for created, batch_id in sorted(ranks)}


def _set_aside_note(batch_dir: Path) -> dict[str, Any] | None:
    try:
        note: dict[str, Any] = json.loads((batch_dir / SET_ASIDE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return note


def _batch_dir(data_dir: Path, batch_id: str) -> Path:
    folder = batches_dir(data_dir) / batch_id
    if not re.fullmatch(r"[a-z0-9]+-[0-9a-f]{8,64}", batch_id) or not (folder / "manifest.json").exists():
        raise IngestError(f"no batch {batch_id!r}: `hoso batch list` names them")
    return folder


def set_aside(data_dir: Path, batch_id: str, reason: str, by: str = "hoso") -> dict[str, Any]:
    """Keep a batch out of linking and loading (its files stay) until `restore_batch`: what HoSo does with a
    batch it cannot link, so that the batches after it still link. Returns the note it writes."""
    folder = _batch_dir(data_dir, batch_id)
    note = {"reason": reason, "by": by, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp = folder / f".{SET_ASIDE}.tmp"
    tmp.write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
    tmp.replace(folder / SET_ASIDE)
    log.warning("batch %s set aside: %s", batch_id, reason)
    return note


def restore_batch(data_dir: Path, batch_id: str) -> None:
    """Take a batch back into linking (the next `hoso link` links and loads it)."""
    folder = _batch_dir(data_dir, batch_id)
    if _set_aside_note(folder) is None:
        raise IngestError(f"batch {batch_id} is not set aside")
    (folder / SET_ASIDE).unlink()
