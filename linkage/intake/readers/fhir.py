"""FHIR R4 input: Bundles (JSON, or NDJSON with one Bundle or resource per line).

Patient gives the identity; Encounter, Condition, Immunization and Observation (vital signs from
visits and from devices such as blood pressure monitors) attach to the Patient they reference.
Resources are parsed and validated with fhir.resources (R4B models, wire-compatible with R4). In
NDJSON, loose resources must follow the Patient they belong to.
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
from linkage.vocab import ICD10_SYSTEM, LOINC_VITALS, SYSTEM_KINDS, IdKind, SourceKind

KINDS = ("Patient", "Encounter", "Condition", "Immunization", "Observation")
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
        return build_record(fields, self.position, self.key)


def _resources(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
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
                    yield f"{path.name}:{line_no}", {"__error__": f"malformed JSON: {exc.msg}"}
                    continue
                except RecursionError:
                    yield f"{path.name}:{line_no}", {"__error__": "malformed JSON: nested too deeply"}
                    continue
                yield from _unbundle(item, f"{path.name}:{line_no}")
        return
    try:
        with open(path, encoding="utf-8-sig") as fh:
            item = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path.name}: not a JSON file: {exc}") from exc
    yield from _unbundle(item, path.name)


def _unbundle(item: Any, position: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(item, dict):
        yield position, {"__error__": "not a FHIR resource"}
    elif item.get("resourceType") == "Bundle":
        for i, entry in enumerate(item.get("entry") or [], start=1):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            yield f"{position}/entry[{i}]", resource if isinstance(resource, dict) else {"__error__": "empty entry"}
    else:
        yield position, item


def read(path: Path, source_system: str | None = None, **_: Any) -> Iterator[ReadItem]:
    """Stream one record per Patient, carrying the resources that refer to it.

    The record id is `<system>:<Patient.id>`, the system being Patient.meta.source when given,
    else `source_system`, else the file's name.
    """
    system = source_system or path.stem
    people: dict[str, _Person] = {}
    for position, raw in _resources(path):
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
            continue
        subject = _ref(getattr(res, "subject", None) or getattr(res, "patient", None))
        owner = people.get(subject or "")
        if owner is None:
            yield Rejected(position, f"{kind} refers to {subject!r}, not a Patient before it in this file", "")
            continue
        try:
            _attach(owner, kind, res)
        except (ValueError, ValidationError) as exc:
            yield Rejected(position, f"{kind}: {exc}", str(raw)[:200])
    for person in people.values():
        yield person.record(system)


def _attach(person: _Person, kind: str, res: Any) -> None:
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
        encounter = person.encounters.get(_ref(res.encounter) or "")
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
        for code, quantity in components:
            if code in LOINC_VITALS and quantity is not None and quantity.value is not None:
                person.observations.append({
                    "code": LOINC_VITALS[code], "value": float(quantity.value), "unit": quantity.unit or "",
                    "observed_at": res.effectiveDateTime, "device": device,
                    "encounter_id": (_ref(res.encounter) or "").removeprefix("Encounter/") or None,
                })
