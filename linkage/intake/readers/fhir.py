"""FHIR R4 input: Bundles (JSON, or NDJSON with one Bundle or resource per line).

Patient gives the identity; Encounter, Condition, Immunization and Observation (vital signs from
visits and from devices such as blood pressure monitors) attach to the Patient they reference; a
Device names the device an Observation came from. Resources are parsed and validated with
fhir.resources (R4B models, wire-compatible with R4). In NDJSON, loose resources must follow the
Patient they belong to.

References resolve as FHIR resolves them within a Bundle: by an entry's `fullUrl` (`urn:uuid:…` or an
absolute URL) or by `Type/id`. What HL7's validator would refuse is not taken silently:
- a resource HoSo cannot read correctly is quarantined with its reason (an Observation whose unit is
  not the UCUM unit of its reading, a resource referring to a Patient not in the file);
- what it can read but a strict receiver would refuse is kept and noted as a warning in the quarantine
  log (a Bundle entry without its fullUrl, an Observation naming a Device absent from the Bundle).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from linkage.errors import SourceError
from linkage.intake.readers.base import ReadItem, Rejected, build_record, validation_reason
from linkage.standardize import parse_birth_date
from linkage.vocab import ICD10_SYSTEM, LOINC_VITALS, SYSTEM_KINDS, UCUM_SYSTEM, IdKind, SourceKind, ucum_unit

KINDS = ("Patient", "Encounter", "Condition", "Immunization", "Observation", "Device")
# Bundles whose entries need no fullUrl (FHIR's bdl-7 and the validator exempt them).
NO_FULL_URL = ("transaction", "batch", "transaction-response", "batch-response")
SEX = {"male": "male", "female": "female", "other": "undetermined", "unknown": None}


def _ref(ref: Any) -> str | None:
    return ref.reference if ref is not None and ref.reference else None


def _coding(concept: Any, system: str | None = None) -> str | None:
    if concept is None or not concept.coding:
        return None
    for coding in concept.coding:
        if system is None or coding.system == system:
            return str(coding.code) if coding.code else None
    return None


class _Person:
    def __init__(self, key: str, position: str, patient: Any) -> None:
        self.key = key
        self.position = position
        self.patient = patient
        self.encounters: dict[str, dict[str, Any]] = {}
        self.conditions: list[dict[str, Any]] = []
        self.immunizations: list[dict[str, Any]] = []
        self.observations: list[dict[str, Any]] = []
        self.warnings: list[str] = []

    def record(self, default_system: str) -> ReadItem:
        p = self.patient
        source_system = p.meta.source if p.meta is not None and p.meta.source else default_system
        try:
            ids = []
            for ident in p.identifier or []:
                kind = SYSTEM_KINDS.get(ident.system or "")
                if kind is not None and ident.value:
                    ids.append({"kind": kind, "value": ident.value})
                elif ident.value:
                    ids.append({"kind": IdKind.FACILITY_PATIENT, "value": ident.value,
                                "scope": ident.system or source_system})
            name = p.name[0] if p.name else None
            given = list(name.given or []) if name else []
            full = name.text if name and name.text else " ".join([name.family or "", *given]).strip() if name else None
            birth, precision = parse_birth_date(str(p.birthDate)) if p.birthDate else (None, None)
            phones = [t.value for t in p.telecom or [] if t.system == "phone" and t.value]
            addresses = [{"use": "current" if (a.use or "home") == "home" else "other", "text": a.text,
                          "postcode": a.postalCode} for a in p.address or [] if a.text or a.postalCode]
            fields: dict[str, Any] = {
                "source": SourceKind.FHIR, "source_system": source_system, "record_id": f"{source_system}:{self.key}",
                "raw_ref": self.position, "identifiers": ids, "name_as_written": full,
                "family_name": name.family if name and name.family else None,
                "middle_name": " ".join(given[:-1]) or None, "given_name": given[-1] if given else None,
                "birth_date": birth, "birth_precision": precision, "sex": SEX.get(p.gender or "unknown"),
                "phones": phones, "addresses": addresses, "encounters": list(self.encounters.values()),
                "conditions": self.conditions, "immunizations": self.immunizations, "observations": self.observations,
            }
        except ValueError as exc:
            return Rejected(self.position, str(exc), self.key)
        item = build_record(fields, self.position, self.key)
        if not isinstance(item, Rejected):
            item.warnings.extend(self.warnings)
        return item


Entry = tuple[str, dict[str, Any], str | None, str | None]  # position, resource, fullUrl, warning


def _resources(path: Path) -> Iterator[Entry]:
    if not path.is_file():
        raise SourceError(f"{path.name}: no such file")
    if path.suffix.lower() == ".ndjson":
        with open(path, encoding="utf-8-sig") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield f"{path.name}:{line_no}", {"__error__": f"malformed JSON: {exc.msg}"}, None, None
                    continue
                except RecursionError:
                    yield f"{path.name}:{line_no}", {"__error__": "malformed JSON: nested too deeply"}, None, None
                    continue
                yield from _unbundle(item, f"{path.name}:{line_no}")
        return
    try:
        with open(path, encoding="utf-8-sig") as fh:
            item = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path.name}: not a JSON file: {exc}") from exc
    yield from _unbundle(item, path.name)


def _unbundle(item: Any, position: str) -> Iterator[Entry]:
    if not isinstance(item, dict):
        yield position, {"__error__": "not a FHIR resource"}, None, None
    elif item.get("resourceType") == "Bundle":
        needs_url = item.get("type") not in NO_FULL_URL
        for i, entry in enumerate(item.get("entry") or [], start=1):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            full_url = entry.get("fullUrl") if isinstance(entry, dict) and isinstance(entry.get("fullUrl"), str) \
                else None
            warning = None
            if needs_url and not full_url:
                warning = f"Bundle entry {i} has no fullUrl (FHIR requires one outside transactions and batches)"
            elif full_url and not _absolute(full_url):
                warning = f"Bundle entry {i} has a relative fullUrl {full_url[:80]!r} (FHIR requires an absolute one)"
            yield (f"{position}/entry[{i}]", resource if isinstance(resource, dict) else {"__error__": "empty entry"},
                   full_url, warning)
    else:
        yield position, item, None, None


def _absolute(url: str) -> bool:
    return url.startswith(("urn:uuid:", "urn:oid:", "http://", "https://"))


def _key(reference: str | None) -> str | None:
    """`Type/id` of a reference written as `Type/id`, as an absolute URL ending so, or as given (urn:uuid)."""
    if not reference:
        return None
    if reference.startswith(("http://", "https://")):
        parts = reference.rstrip("/").split("/")
        return "/".join(parts[-2:]) if len(parts) >= 2 else reference
    return reference


def read(path: Path, source_system: str | None = None, **_: Any) -> Iterator[ReadItem]:
    """Stream one record per Patient, carrying the resources that refer to it.

    The record id is `<system>:<Patient.id>`, the system being Patient.meta.source when given,
    else `source_system`, else the file's name.
    """
    system = source_system or path.stem
    people: dict[str, _Person] = {}
    aliases: dict[str, str] = {}  # fullUrl -> Type/id of the resources read so far
    devices: set[str] = set()
    pending: list[str] = []  # warnings of entries met before their Patient
    bundle: str | None = None
    for position, raw, full_url, warning in _resources(path):
        if "__error__" in raw:
            yield Rejected(position, raw["__error__"], "")
            continue
        kind = raw.get("resourceType")
        if kind not in KINDS:
            yield Rejected(position, f"unsupported resource type {kind!r}", str(raw)[:200])
            continue
        try:
            res: Any = get_fhir_model_class(kind).model_validate(raw)
        except ValidationError as exc:
            yield Rejected(position, f"{kind}: {validation_reason(exc)}", str(raw)[:200])
            continue
        # What references may point at: the resources of the same Bundle (for loose NDJSON resources,
        # those since the last Patient).
        scope = position.split("/entry[", 1)[0] if "/entry[" in position else None
        if scope != bundle or (scope is None and kind == "Patient"):
            aliases.clear()
            devices.clear()
            bundle = scope
        if res.id is not None:
            aliases[full_url or f"{kind}/{res.id}"] = f"{kind}/{res.id}"
        if kind == "Device":
            devices.update(k for k in (f"Device/{res.id}", full_url) if k)
            if warning:
                pending.append(f"{position}: {warning}")
            continue
        if kind == "Patient":
            if res.id is None:
                yield Rejected(position, "Patient without id", str(raw)[:200])
                continue
            key = f"Patient/{res.id}"
            if people and key not in people:  # NDJSON order: the previous person is complete
                for person in people.values():
                    yield person.record(system)
                people.clear()
            people[key] = _Person(res.id, position, res)
            people[key].warnings.extend(pending)
            pending.clear()
            if warning:
                people[key].warnings.append(f"{position}: {warning}")
            continue
        subject = _ref(getattr(res, "subject", None) or getattr(res, "patient", None))
        owner = people.get(aliases.get(subject or "") or _key(subject) or "")
        if owner is None:
            yield Rejected(position, f"{kind} refers to {subject!r}, not a Patient before it in this file", "")
            continue
        try:
            notes = _attach(owner, kind, res, aliases, devices)
        except (ValueError, ValidationError) as exc:
            yield Rejected(position, f"{kind}: {exc}", str(raw)[:200])
            continue
        owner.warnings.extend(f"{position}: {note}" for note in ([warning] if warning else []) + notes)
    for person in people.values():
        yield person.record(system)


def _attach(person: _Person, kind: str, res: Any, aliases: dict[str, str], devices: set[str]) -> list[str]:
    """Attach one resource to its person; returns the warnings it leaves (raises ValueError to refuse it)."""
    if kind == "Encounter":
        provider = res.serviceProvider.identifier.value if res.serviceProvider and res.serviceProvider.identifier \
            else None
        period = res.period
        person.encounters[f"Encounter/{res.id}"] = {
            "encounter_id": res.id or f"enc{len(person.encounters) + 1}", "facility_code": provider,
            "admitted_at": period.start if period else None, "discharged_at": period.end if period else None,
            "visit_type": res.class_fhir.code if getattr(res, "class_fhir", None) else None,
        }
    elif kind == "Condition":
        code = _coding(res.code, ICD10_SYSTEM)
        reference = _ref(res.encounter)
        encounter = person.encounters.get(aliases.get(reference or "") or _key(reference) or "")
        if encounter is not None and code:
            if encounter.get("main_icd10") is None:
                encounter["main_icd10"] = code
            else:
                encounter.setdefault("secondary_icd10", []).append(code)
        else:
            person.conditions.append({"category": "chronic", "code": code or "unknown", "icd10": code,
                                      "text": res.code.text if res.code else None})
    elif kind == "Immunization":
        when = res.occurrenceDateTime or res.occurrenceString
        dose = res.protocolApplied[0].doseNumberPositiveInt if res.protocolApplied else None
        person.immunizations.append({
            "vaccine_code": (_coding(res.vaccineCode) or "").upper(), "vaccine_name": res.vaccineCode.text,
            "date": parse_birth_date(str(when)[:10])[0] if when else None, "dose": dose,
            "facility_code": res.location.identifier.value if res.location and res.location.identifier else None,
        })
    elif kind == "Observation":
        loinc = _coding(res.code, "http://loinc.org")
        components = [(loinc, res.valueQuantity)] + [(_coding(c.code, "http://loinc.org"), c.valueQuantity)
                                                     for c in res.component or []]
        device = _ref(res.device)
        notes = []
        if device and device not in devices and aliases.get(device, _key(device)) not in devices:
            notes.append(f"Observation {res.id} names {device!r}, a Device not in the Bundle")
        readings = []
        for code, quantity in components:
            if code in LOINC_VITALS and quantity is not None and quantity.value is not None:
                written = quantity.code if quantity.system == UCUM_SYSTEM and quantity.code else quantity.unit
                unit = ucum_unit(LOINC_VITALS[code], written)
                if unit is None:
                    raise ValueError(f"{LOINC_VITALS[code]} (LOINC {code}) in unit {written!r}: "
                                     f"HoSo keeps it in UCUM {ucum_unit(LOINC_VITALS[code], None)!r}")
                visit = aliases.get(_ref(res.encounter) or "") or _key(_ref(res.encounter)) or ""
                readings.append({
                    "code": LOINC_VITALS[code], "value": float(quantity.value), "unit": unit,
                    "observed_at": res.effectiveDateTime, "device": _key(aliases.get(device or "", device)),
                    "encounter_id": visit.removeprefix("Encounter/") or None,
                })
        person.observations.extend(readings)
        return notes
    return []
