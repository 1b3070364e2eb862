"""A synthetic population with its truth, written in every source's native format.

Households of realistic composition live in real communes (vietnamadminunits); persons carry
personal ids consistent with birth province, sex and birth year, social insurance numbers and the
cards that embed them, phones (some in the old 11-digit form); they have chronic and acute
diseases with age gradients, seasonality and household clustering, and childhood immunizations
following the national schedule with realistic coverage, delays and drop-out. Each source is written
in its own format with the errors that source really has, at rates set by the profile; `truth.csv`
gives the true person of every record and `expected.json` the records and rejections per source.

    summary = generate(SynthConfig(persons=10_000, seed=1, profile="realistic"), Path("d/"))
"""

from __future__ import annotations

import base64
import csv
import json
import random
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape

from linkage.standardize import AdminUnit, fold, load_admin_units, old_form
from linkage.synth.vocab import (
    ACUTE,
    AGE_GROUPS,
    FAMILY_NAMES,
    GIVEN_FEMALE,
    GIVEN_MALE,
    GIVEN_NAME_COUNTS,
    MIDDLE_FEMALE,
    MIDDLE_MALE,
    SCHEDULE,
    TWIN_SHARE,
)
from linkage.vocab import FACILITY_SYSTEM, UCUM_SYSTEM, CodeList


class Profile(StrEnum):
    """How many and which errors each source carries (the rates below)."""

    CLEAN = "clean"
    REALISTIC = "realistic"
    HARD = "hard"
    NO_IDS = "no-ids"  # no identifier in any source (and no population registry, which is keyed by id)
    ID_TYPOS = "id-typos"  # realistic, and one id in twenty mistyped by one keystroke
    HOUSEHOLDS = "households"  # realistic, and most members give the household's one phone
    DENSE = "dense"  # realistic, with given names as frequent as in the country, and twins


REFERENCE_DATE = date(2026, 9, 30)
RATES: dict[str, dict[str, float]] = {
    #               no accents, typo, swap middle/given, family variant, year-only dob, dob day/month swap,
    #               missing id, old phone, duplicate in source, invalid row, id mistyped (one keystroke),
#               phone given as the household's, no ids at all (1 or 0)
    "clean": dict(accents=0.0, typo=0.0, swap=0.0, variant=0.0, year_only=0.0, dob_swap=0.0,
                  missing_id=0.0, old_phone=0.0, duplicate=0.0, invalid=0.0, id_typo=0.0, shared_phone=0.0,
                  no_ids=0.0),
    "realistic": dict(accents=0.10, typo=0.03, swap=0.02, variant=0.10, year_only=0.03, dob_swap=0.01,
                      missing_id=0.25, old_phone=0.20, duplicate=0.01, invalid=0.002, id_typo=0.0,
                      shared_phone=0.0, no_ids=0.0),
    "hard": dict(accents=0.30, typo=0.10, swap=0.06, variant=0.30, year_only=0.10, dob_swap=0.04,
                 missing_id=0.50, old_phone=0.40, duplicate=0.03, invalid=0.005, id_typo=0.01, shared_phone=0.2,
                 no_ids=0.0),
}
RATES["no-ids"] = {**RATES["realistic"], "no_ids": 1.0}
RATES["id-typos"] = {**RATES["realistic"], "id_typo": 0.05}
RATES["households"] = {**RATES["realistic"], "shared_phone": 0.7}
RATES["dense"] = RATES["realistic"]
SOURCE_SHARE = {"commune831": 0.45, "hospital": 0.25, "fhir": 0.08, "clinic": 0.07}
MOBILE_PREFIXES = ["032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079",
                   "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094", "096",
                   "097", "098", "056", "058", "059"]
PROVINCE_OF_BIRTH_SHARE = 0.85  # the rest were born in another province
CHUNK = 5_000
FHIR_SYSTEM = "fhir-clinics"
FHIR_NAMESPACE = uuid.UUID("6f1b0c52-7d0e-5b7e-9a55-0c2d3f4e5a61")  # the urn:uuid fullUrls of its Bundles
TAILS = {"831": "</DANHSACHHOSO>\n", "130": "</DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>\n",
         "4210": "</DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>\n", "fhir": ""}


@dataclass(frozen=True)
class SynthConfig:
    persons: int = 10_000
    seed: int = 1
    profile: Profile = Profile.REALISTIC


@dataclass
class Household:
    code: str
    old_commune: AdminUnit
    new_commune: str
    house: str
    members: list[Person] = field(default_factory=list)
    tb_index: bool = False


@dataclass
class Person:
    truth_id: str
    family: str
    middle: str
    given: str
    sex: str
    birth: date
    birth_province: str
    personal_id: str
    bhxh: str
    card: str
    household: Household
    relation: str
    cmnd: str | None = None
    phone: str | None = None
    mother: Person | None = None
    father: Person | None = None
    chronic: list[str] = field(default_factory=list)
    smoker: bool = False

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)

    def age(self, on: date = REFERENCE_DATE) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _weighted(rng: random.Random, items: list[tuple[str, float]] | list[tuple[str, int]]) -> str:
    names, weights = zip(*items, strict=True)
    return rng.choices(names, weights=weights)[0]


class Generator:
    """Draws the population and writes every source; one instance per run."""

    def __init__(self, config: SynthConfig, out: Path) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.rates = RATES[config.profile]
        self.out = out
        self.units = load_admin_units()
        self.used_ids: set[str] = set()
        self.serial = 0
        self.counts: dict[str, dict[str, int]] = {}
        communes = sorted(self.units.of(CodeList.PRE_2025, "commune"), key=lambda u: u.code)
        n_communes = max(3, min(len(communes), config.persons // 400))
        self.communes = self.rng.sample(communes, n_communes)
        self.facilities = self._facilities()

    # -- population ----------------------------------------------------------------------------
    def _facilities(self) -> list[dict[str, str]]:
        provinces = sorted({c.province_code for c in self.communes})
        rows = []
        for p in provinces:
            name = self.units.get(CodeList.PRE_2025, "province", p)
            pname = name.name if name else p
            rows.append({"code": f"{p}001", "name": f"Bệnh viện Đa khoa {pname}", "level": "province",
                         "ownership": "public", "province_code": p, "commune_code": ""})
            rows.append({"code": f"{p}002", "name": f"Bệnh viện Nhi {pname}", "level": "province",
                         "ownership": "public", "province_code": p, "commune_code": ""})
            rows.append({"code": f"{p}901", "name": f"Phòng khám Đa khoa Tư nhân {pname}", "level": "clinic",
                         "ownership": "private", "province_code": p, "commune_code": ""})
        for c in self.communes:
            rows.append({"code": f"T{c.code}", "name": f"Trạm Y tế {c.name}", "level": "commune",
                         "ownership": "public", "province_code": c.province_code, "commune_code": c.code})
        return rows

    def given_name(self, sex: str) -> str:
        """A given name of `sex`: uniformly, or in the dense profile as often as in the country."""
        names = GIVEN_MALE if sex == "male" else GIVEN_FEMALE
        if self.config.profile != Profile.DENSE:
            return self.rng.choice(names)
        return self.rng.choices(names, weights=[GIVEN_NAME_COUNTS.get(fold(n), 100) for n in names])[0]

    def _age(self, minimum: int = 0) -> int:
        """An age drawn from Vietnam's age pyramid (5-year groups), at least `minimum`."""
        groups = [g for g in range(len(AGE_GROUPS)) if g * 5 + (4 if g < 16 else 14) >= minimum]
        group = self.rng.choices(groups, weights=[AGE_GROUPS[g] for g in groups])[0]
        return max(minimum, group * 5 + self.rng.randrange(5 if group < 16 else 15))

    def _birth(self, age: int) -> date:
        start = REFERENCE_DATE - timedelta(days=365 * (age + 1) - 1)
        return start + timedelta(days=self.rng.randrange(365))

    def _personal_id(self, province: str, sex: str, birth: date) -> str:
        century = (birth.year // 100) - 19
        g = century * 2 + (1 if sex == "female" else 0)
        while True:
            pid = f"{int(province):03d}{g}{birth.year % 100:02d}{self.rng.randrange(1_000_000):06d}"
            if pid not in self.used_ids:
                self.used_ids.add(pid)
                return pid

    def _card(self, age: int, province: str, bhxh: str) -> str:
        group = "TE" if age < 6 else "HS" if age < 18 else "HT" if age >= 60 else self.rng.choice(["DN", "GD", "HC"])
        level = "1" if group == "TE" else self.rng.choice("2345")
        return f"{group}{level}{province}{bhxh}"

    def _person(self, hh: Household, relation: str, sex: str, age: int, family: str | None = None) -> Person:
        self.serial += 1
        birth = self._birth(age)
        province = hh.old_commune.province_code
        if self.rng.random() > PROVINCE_OF_BIRTH_SHARE:
            province = self.rng.choice(self.communes).province_code
        middle = _weighted(self.rng, MIDDLE_MALE if sex == "male" else MIDDLE_FEMALE)
        given = self.given_name(sex)
        bhxh = f"{self.rng.randrange(10**9, 10**10)}"
        person = Person(
            truth_id=f"P{self.serial:08d}", family=family or _weighted(self.rng, FAMILY_NAMES), middle=middle,
            given=given, sex=sex, birth=birth, birth_province=province,
            personal_id=self._personal_id(province, sex, birth), bhxh=bhxh,
            card=self._card(age, hh.old_commune.province_code, bhxh), household=hh, relation=relation,
        )
        if age >= 16 and self.rng.random() < 0.88:
            person.phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**7):07d}"
        if birth.year < 1995 and self.rng.random() < 0.6:
            person.cmnd = f"{self.rng.randrange(10**8, 10**9)}"
        self._diseases(person)
        return person

    def _diseases(self, p: Person) -> None:
        age = p.age()
        r = self.rng.random
        if age >= 18:
            p.smoker = r() < (0.42 if p.sex == "male" else 0.02)
        if age >= 30 and r() < min(0.5, 0.02 + (age - 30) * 0.008):
            p.chronic.append("I10")
        if age >= 30 and r() < min(0.2, 0.01 + (age - 30) * 0.003):
            p.chronic.append("E11.9")
        if p.smoker and age >= 50 and r() < 0.12:
            p.chronic.append("J44.9")
        if age >= 5 and r() < 0.03:
            p.chronic.append("J45.9")

    def households(self) -> Iterator[Household]:
        n = 0
        while n < self.config.persons:
            commune = self.rng.choice(self.communes)
            new = self.units.to_post2025(commune.code)
            hh = Household(code=f"HGD{commune.code}{self.rng.randrange(10**6):06d}", old_commune=commune,
                           new_commune=new[0] if new else "", house=f"Số {self.rng.randrange(1, 300)}")
            head_sex = "male" if self.rng.random() < 0.75 else "female"
            head_age = self._age(minimum=22)
            head = self._person(hh, "Chủ hộ", head_sex, head_age)
            hh.members.append(head)
            spouse = None
            if self.rng.random() < 0.82:
                spouse_age = max(18, head_age + self.rng.randint(-6, 4) * (1 if head_sex == "male" else -1))
                spouse = self._person(hh, "Vợ" if head_sex == "male" else "Chồng",
                                      "female" if head_sex == "male" else "male", spouse_age)
                hh.members.append(spouse)
            mother = spouse if head_sex == "male" else head
            father = head if head_sex == "male" else spouse
            youngest_parent = min(head_age, spouse.age() if spouse else head_age)
            n_children = self.rng.choices([0, 1, 2, 3, 4], weights=[10, 20, 40, 20, 10])[0]
            for _ in range(n_children):
                age = youngest_parent - self.rng.randint(18, 36)
                if age < 0:
                    continue
                sex = "male" if self.rng.random() < 0.53 else "female"
                child = self._person(hh, "Con", sex, age, family=(father or head).family)
                child.mother, child.father = mother, father
                hh.members.append(child)
                if self.config.profile == Profile.DENSE and self.rng.random() < TWIN_SHARE:
                    twin = self._person(hh, "Con", sex, age, family=child.family)
                    twin.birth, twin.middle, twin.mother, twin.father = child.birth, child.middle, mother, father
                    while twin.given == child.given:  # no family names twins alike (no registry could tell them apart)
                        twin.given = self.given_name(sex)
                    twin.personal_id = self._personal_id(twin.birth_province, sex, twin.birth)
                    hh.members.append(twin)
            if head_age < 55 and self.rng.random() < 0.2:
                elder = self._person(hh, "Bố" if self.rng.random() < 0.4 else "Mẹ", "male", head_age + 27)
                if elder.relation == "Mẹ":
                    elder.sex = "female"
                    elder.middle = _weighted(self.rng, MIDDLE_FEMALE)
                    elder.given = self.given_name("female")
                    elder.personal_id = self._personal_id(elder.birth_province, "female", elder.birth)
                else:
                    elder.family = head.family
                hh.members.append(elder)
            if self.rng.random() < 0.004:
                hh.tb_index = True
                for i, m in enumerate(hh.members):
                    if i == 0 or self.rng.random() < 0.15:
                        m.chronic.append("A15.0")
            n += len(hh.members)
            yield hh

    # -- errors --------------------------------------------------------------------------------
    def chance(self, rate: str, factor: float = 1.0) -> bool:
        return self.rng.random() < self.rates[rate] * factor

    def name_as_recorded(self, p: Person, factor: float = 1.0, upper: bool = False) -> str:
        family, middle, given = p.family, p.middle, p.given
        if self.chance("variant", factor):
            family = {"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}.get(family, family)
        if self.chance("swap", factor) and middle:
            middle, given = given, middle
        if self.chance("typo", factor):
            given = self._typo(given)
        name = " ".join(x for x in (family, middle, given) if x)
        if self.chance("accents", factor):
            name = _strip_accents(name)
        return name.upper() if upper else name

    def _typo(self, word: str) -> str:
        if len(word) < 3:
            return word
        i = self.rng.randrange(1, len(word))
        op = self.rng.randrange(3)
        if op == 0:
            return word[:i] + word[i + 1 :]
        if op == 1 and i < len(word) - 1:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        return word[:i] + self.rng.choice("aeiounhtmg") + word[i + 1 :]

    def birth_as_recorded(self, p: Person, factor: float = 1.0) -> tuple[date, str]:
        """The birth date and its precision ('day' or 'year') as a source wrote it."""
        if self.chance("year_only", factor):
            return p.birth, "year"
        b = p.birth
        if self.chance("dob_swap", factor) and b.day <= 12 and b.day != b.month:
            return date(b.year, b.day, b.month), "day"
        return b, "day"

    def id_as_recorded(self, value: str | None) -> str | None:
        """An identifier as a source wrote it: none in a world without ids, sometimes one keystroke off."""
        if value is None or self.rates["no_ids"]:
            return None
        if not self.chance("id_typo") or len(value) < 4:
            return value
        i = self.rng.randrange(len(value) - 1)
        if self.rng.random() < 0.5 and value[i] != value[i + 1]:
            return value[:i] + value[i + 1] + value[i] + value[i + 2:]
        digit = self.rng.choice([d for d in "0123456789" if d != value[i]]) if value[i].isdigit() else value[i]
        return value[:i] + digit + value[i + 1:]

    def phone_as_recorded(self, p: Person) -> str | None:
        head = p.household.members[0] if p.household.members else p
        if head.phone is not None and head is not p and self.chance("shared_phone"):
            p = head  # the household gives one number for everyone
        if p.phone is None:
            return None
        if self.chance("old_phone"):
            return old_form(p.phone) or p.phone
        return p.phone

    def count(self, source: str, records: int = 0, bad: int = 0, dropped: int = 0) -> None:
        c = self.counts.setdefault(source, {"records": 0, "quarantined": 0, "values_dropped": 0})
        c["records"] += records
        c["quarantined"] += bad
        c["values_dropped"] += dropped


def _addr_text(p: Person, units: Any, new: bool) -> str:
    hh = p.household
    if new:
        commune = units.commune(hh.new_commune, CodeList.POST_2025)
        province = units.get(CodeList.POST_2025, "province", commune.province_code) if commune else None
        return ", ".join(x for x in (hh.house, commune.name if commune else "", province.name if province else "") if x)
    old = hh.old_commune
    district = units.get(CodeList.PRE_2025, "district", old.parent_code or "")
    province = units.get(CodeList.PRE_2025, "province", old.province_code)
    return ", ".join(x for x in (hh.house, old.name, district.name if district else "",
                                 province.name if province else "") if x)


def _compact(d: date, precision: str, width: int = 12) -> str:
    text = f"{d.year:04d}0000" if precision == "year" else d.strftime("%Y%m%d")
    return text + ("0000" if width == 12 else "")


def _x(tag: str, value: Any) -> str:
    if value is None or value == "":
        return f"<{tag}/>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


class Writers:
    """Open output files and the per-source writing code."""

    def __init__(self, gen: Generator, out: Path) -> None:
        self.gen = gen
        self.out = out
        for sub in ("population", "commune831", "hospital130", "immunization", "fhir", "csv"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        self.files = ExitStack()
        self.truth = self.files.enter_context(open(out / "truth.csv", "w", newline="", encoding="utf-8"))
        self.truth_csv = csv.writer(self.truth)
        self.truth_csv.writerow(["source", "record_id", "person_id"])
        self.population = self.files.enter_context(
            open(out / "population" / "registry.csv", "w", newline="", encoding="utf-8-sig"))
        self.population_csv = csv.writer(self.population)
        self.population_csv.writerow(["so_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh", "dia_chi_thuong_tru",
                                      "ma_tinh_thuong_tru", "ma_xa_thuong_tru", "dia_chi_hien_tai",
                                      "ma_tinh_hien_tai", "ma_xa_hien_tai", "ma_ho", "quan_he_chu_ho"])
        self.immunization = self.files.enter_context(
            open(out / "immunization" / "registry.csv", "w", newline="", encoding="utf-8"))
        self.immunization_csv = csv.writer(self.immunization)
        self.immunization_csv.writerow(["ma_tre", "ho_ten_tre", "ngay_sinh", "gioi_tinh", "so_dinh_danh",
                                        "ho_ten_nguoi_cham_soc", "dien_thoai", "dia_chi", "ma_tinh", "ma_xa",
                                        "ma_vac_xin", "ten_vac_xin",
                                        "mui_thu", "ngay_tiem", "ma_co_so", "phan_ung"])
        self.clinic = self.files.enter_context(open(out / "csv" / "clinic.csv", "w", newline="", encoding="utf-8"))
        self.clinic_csv = csv.writer(self.clinic, delimiter=";")
        self.clinic_csv.writerow(["ma_bn", "ho", "ten_dem", "ten", "ngay_sinh", "nam_sinh", "gioi", "sdt", "dia_chi",
                                  "tinh", "huyen", "xa", "cccd"])
        self.chunks: dict[str, tuple[TextIO, int, int]] = {}
        self.visit_serial = 0

    # -- chunked XML/NDJSON files --------------------------------------------------------------
    def _chunk(self, key: str, folder: str, pattern: str, head: str) -> TextIO:
        fh, n, part = self.chunks.get(key, (None, 0, 0))
        if fh is None or n >= CHUNK:
            if fh is not None:
                fh.write(TAILS[key])
                fh.close()
            part += 1
            fh = self.files.enter_context(open(self.out / folder / pattern.format(part), "w", encoding="utf-8"))
            fh.write(head)
            n = 0
        self.chunks[key] = (fh, n + 1, part)
        return fh

    def close(self) -> None:
        for key, (fh, _, _) in self.chunks.items():
            fh.write(TAILS[key])
        self.files.close()
        (self.out / "csv" / "clinic.mapping.toml").write_text(CLINIC_MAPPING, encoding="utf-8")
        with open(self.out / "facilities.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(self.gen.facilities[0]))
            writer.writeheader()
            writer.writerows(self.gen.facilities)

    def truth_row(self, source: str, record_id: str, p: Person) -> None:
        self.truth_csv.writerow([source, record_id, p.truth_id])

    # -- population registry -------------------------------------------------------------------
    def population_row(self, p: Person) -> None:
        g, units = self.gen, self.gen.units
        if g.rates["no_ids"]:
            return  # the registry is keyed by the personal id: a world without ids has none
        hh = p.household
        new = units.commune(hh.new_commune, CodeList.POST_2025)
        text = _addr_text(p, units, new=True)
        birth = p.birth.strftime("%d/%m/%Y")
        if g.chance("invalid"):
            birth = f"31/02/{p.birth.year}"
            g.count("population", bad=1)
        else:
            g.count("population", records=1)
            self.truth_row("population", p.personal_id, p)
        self.population_csv.writerow([p.personal_id, p.full_name, birth, "Nam" if p.sex == "male" else "Nữ", text,
                                      new.province_code if new else "", hh.new_commune, text,
                                      new.province_code if new else "", hh.new_commune, hh.code, p.relation])

    # -- commune health station (831) ----------------------------------------------------------
    def commune831(self, p: Person, copy: int = 1) -> None:
        g, units = self.gen, self.gen.units
        hh = p.household
        station = f"T{hh.old_commune.code}"
        record_key = f"HS{p.truth_id[1:]}" + (f"-{copy}" if copy > 1 else "")
        birth, precision = g.birth_as_recorded(p)
        ids = ""
        if not g.chance("missing_id", 0.6):
            ids += _x("MADINHDANH", g.id_as_recorded(p.personal_id))
        if p.cmnd and g.rng.random() < 0.5:
            ids += _x("SOCMND", g.id_as_recorded(p.cmnd))
        if g.rng.random() < 0.7:
            ids += _x("MABHXH", g.id_as_recorded(p.bhxh)) + _x("MATHE", g.id_as_recorded(p.card))
        old_codes = g.rng.random() < 0.7
        if old_codes:
            codes = (_x("MATINH_THUONGTRU", hh.old_commune.province_code)
                     + _x("MAHUYEN_THUONGTRU", hh.old_commune.parent_code) + _x("MAXA_THUONGTRU", hh.old_commune.code))
        else:
            new = units.commune(hh.new_commune, CodeList.POST_2025)
            codes = _x("MATINH_THUONGTRU", new.province_code if new else "") + _x("MAXA_THUONGTRU", hh.new_commune)
        info = (f"<THONGTINCHUNG>{_x('MA_TRAM', station)}{_x('MA_HOSO', record_key)}{ids}{_x('MAHO_GIADINH', hh.code)}"
                f"{_x('HOTEN', g.name_as_recorded(p))}{_x('QUANHE_CHUHO', p.relation)}"
                f"{_x('GIOITINH', '1' if p.sex == 'male' else '2')}"
                f"{_x('NGAYSINH', birth.strftime('%Y') if precision == 'year' else birth.strftime('%d/%m/%Y'))}"
                f"{_x('MADANTOC', '01')}{_x('MAQUOCTICH', '000')}"
                f"{_x('DIACHI_THUONGTRU', _addr_text(p, units, new=not old_codes))}{codes}"
                f"{_x('DIENTHOAI_DD', g.phone_as_recorded(p))}</THONGTINCHUNG>")
        history = self._tiensu(p)
        imm = "".join(
            f"<THONGTINMUITIEM>{_x('MAVACXIN', code)}{_x('TENVACXIN', name)}{_x('MUI', dose)}"
            f"{_x('NGAYTIEM', when.strftime('%d/%m/%Y'))}</THONGTINMUITIEM>"
            for code, name, dose, when in self.doses(p, station_only=True)
        )
        visits = ""
        bad = g.chance("invalid")
        for k in range(g.rng.choice([0, 1, 1, 2, 3])):
            when = datetime.combine(REFERENCE_DATE - timedelta(days=g.rng.randrange(1, 1200)), datetime.min.time())
            when = when.replace(hour=g.rng.randrange(7, 17))
            dx = p.chronic[0] if p.chronic and g.rng.random() < 0.6 else self.acute(when)
            if bad and k == 0:
                dx = "Q99.99X"
            systolic = 115 + (25 if "I10" in p.chronic else 0) + g.rng.randint(-10, 15)
            visits += (f"<HOSOKHAMCHUABENH>{_x('MA_LK', f'{station}{record_key}{k}')}"
                       f"{_x('NGAYKHAM', when.strftime('%Y%m%d%H%M'))}{_x('LYDO', 'Khám bệnh')}"
                       f"{_x('MACH', g.rng.randint(60, 95))}{_x('NHIETDO', round(36.5 + g.rng.random(), 1))}"
                       + (f"{_x('HUYETAP_TAMTHU', systolic)}{_x('HUYETAP_TAMTRUONG', systolic - 40)}"
                          if p.age() >= 15 else "")
                       + f"<CHANDOANBENH>{_x('MABENH', dx)}</CHANDOANBENH></HOSOKHAMCHUABENH>")
        if bad and not visits:
            bad = False
        fh = self._chunk("831", "commune831", "stations-{:04d}.xml",
                         '<?xml version="1.0" encoding="UTF-8"?>\n<DANHSACHHOSO>\n')
        fh.write(f"<HOSOSUCKHOE>{info}{history}<TIEMCHUNG>{imm}</TIEMCHUNG>{visits}</HOSOSUCKHOE>\n")
        record_id = f"{station}:{record_key}"
        if bad:
            g.count("commune831", bad=1)
        else:
            g.count("commune831", records=1)
            self.truth_row("commune831", record_id, p)

    def _tiensu(self, p: Person) -> str:
        items = ""
        if p.smoker:
            items += f"<YEUTO_SUCKHOE><YEUTO>{_x('LOAI', 1)}{_x('MOTA', 'Hút thuốc lá')}</YEUTO></YEUTO_SUCKHOE>"
        mapping = {"I10": "2", "E11.9": "3", "J44.9": "5", "J45.9": "6", "A15.0": "14"}
        diseases = "".join(f"<BENH>{_x('LOAIBENH', mapping[c])}{_x('MABENH', c)}</BENH>" for c in p.chronic)
        if diseases:
            items += f"<BENHTAT>{diseases}</BENHTAT>"
        if p.age() < 6:
            weight = self.gen.rng.randint(2300, 3900)
            items = f"<TINHTRANG_LUCSINH>{_x('DE', 'thuong')}{_x('CANNANG', weight)}</TINHTRANG_LUCSINH>" + items
        return f"<TIENSU>{items}</TIENSU>"

    def doses(self, p: Person, station_only: bool = False) -> list[tuple[str, str, int, date]]:
        """The doses a child received (deterministic per person), with the delays and drop-out."""
        if p.age() >= 6:
            return []
        rng = random.Random(f"{self.gen.config.seed}:{p.truth_id}")
        out = []
        age_days = (REFERENCE_DATE - p.birth).days
        for code, name, due_days in SCHEDULE:
            for dose, due in enumerate(due_days, start=1):
                if due > age_days or rng.random() > 0.96 - 0.04 * dose:
                    break
                when = p.birth + timedelta(days=due + int(rng.expovariate(1 / 12)))
                if when > REFERENCE_DATE:
                    break
                out.append((code, name, dose, when))
        return out

    def acute(self, when: datetime) -> str:
        weights = [w * (3 if when.month in months else 1) for _, w, months in ACUTE]
        return self.gen.rng.choices([c for c, _, _ in ACUTE], weights=weights)[0]

    # -- immunization registry -----------------------------------------------------------------
    def immunization_rows(self, p: Person) -> None:
        doses = self.doses(p)
        if not doses:
            return
        g = self.gen
        code = f"TC{p.truth_id[1:]}"
        caregiver = p.mother or p.father
        name = g.name_as_recorded(p)
        birth = p.birth.strftime("%d/%m/%Y")
        pid = "" if g.chance("missing_id", 1.5) or p.age() < 1 else g.id_as_recorded(p.personal_id) or ""
        new = g.units.commune(p.household.new_commune, CodeList.POST_2025)
        address = [_addr_text(p, g.units, new=True), new.province_code if new else "", p.household.new_commune]
        for vaccine, vname, dose, when in doses:
            self.immunization_csv.writerow([
                code, name, birth, "Nam" if p.sex == "male" else "Nữ", pid,
                caregiver.full_name if caregiver else "", g.phone_as_recorded(caregiver) if caregiver else "",
                *address,
                vaccine, vname, dose, when.strftime("%d/%m/%Y"), f"T{p.household.old_commune.code}", ""])
        g.count("immunization", records=1)
        self.truth_row("immunization", code, p)

    # -- hospital files (130 and 4210) ---------------------------------------------------------
    def hospital(self, p: Person) -> None:
        g = self.gen
        episodes = g.rng.choice([1, 1, 1, 2, 3]) + (1 if p.chronic else 0)
        province = p.household.old_commune.province_code
        for _ in range(episodes):
            admitted = datetime.combine(REFERENCE_DATE - timedelta(days=g.rng.randrange(1, 1500)),
                                        datetime.min.time()).replace(hour=g.rng.randrange(24))
            if admitted.date() < p.birth:
                continue
            legacy = admitted.date() < date(2023, 9, 1)
            facility = f"{province}00{2 if p.age() < 16 else 1}"
            self.visit_serial += 1
            ma_lk = f"{admitted:%y%m%d}{self.visit_serial:07d}"
            dx = p.chronic[0] if p.chronic and g.rng.random() < 0.5 else self.acute(admitted)
            bad = g.chance("invalid")
            newborn = (admitted.date() - p.birth).days < 28 and p.mother is not None
            name = g.name_as_recorded(p, upper=True)
            if newborn and p.mother is not None:
                mother = p.mother.full_name.upper()
                name = f"CON {mother}" if g.rng.random() < 0.5 else mother
            birth, precision = g.birth_as_recorded(p, factor=1.5)
            cards = p.card + (f";{p.card[:3]}{(int(province) + 1) % 96:02d}{p.bhxh}" if g.rng.random() < 0.05 else "")
            cards = "" if g.rates["no_ids"] else cards
            hh = p.household
            fields = {
                "MA_LK": ma_lk, "MA_BN": f"BN{p.truth_id[1:]}", "HO_TEN": name,
                "NGAY_SINH": _compact(birth, precision, 8 if legacy else 12),
                "GIOI_TINH": "1" if p.sex == "male" else "2", "MA_QUOCTICH": "000", "MA_DANTOC": "01",
                "DIA_CHI": _addr_text(p, g.units, new=False), "MATINH_CU_TRU": hh.old_commune.province_code,
                "MAHUYEN_CU_TRU": hh.old_commune.parent_code, "MAXA_CU_TRU": hh.old_commune.code,
                "DIEN_THOAI": g.phone_as_recorded(p),
                "NGAY_VAO": admitted.strftime("%Y%m%d%H%M"),
                "NGAY_RA": (admitted + timedelta(days=g.rng.randrange(0, 8), hours=3)).strftime("%Y%m%d%H%M"),
                "KET_QUA_DTRI": g.rng.choice("1122223"), "MA_LOAI_KCB": g.rng.choice("1123"), "MA_CSKCB": facility,
            }
            if legacy:
                fields.update({"MA_THE": cards, "MA_BENH": dx, "MA_BENHKHAC": ""})
            else:
                fields.update({"SO_CCCD": "" if g.chance("missing_id", 1.2) or newborn
                               else g.id_as_recorded(p.personal_id) or "",
                               "MA_THE_BHYT": "" if newborn else cards, "MA_BENH_CHINH": dx,
                               "MA_BENH_KT": "", "CAN_NANG": ""})
            if bad:
                fields["NGAY_VAO"], fields["NGAY_RA"] = fields["NGAY_RA"], fields["NGAY_VAO"]
            xml1 = "<TONG_HOP>" + "".join(_x(k, v) for k, v in fields.items()) + "</TONG_HOP>"
            self._hoso("4210" if legacy else "130", [("XML1", xml1)])
            if bad:
                g.count("hospital130", bad=1)
            else:
                g.count("hospital130", records=1)
                self.truth_row("hospital130", f"{facility}:{ma_lk}", p)

    def birth_certificate(self, child: Person) -> None:
        mother = child.mother
        if mother is None:
            return
        g = self.gen
        self.visit_serial += 1
        born = datetime.combine(child.birth, datetime.min.time()).replace(hour=g.rng.randrange(24))
        facility = f"{child.household.old_commune.province_code}002"
        ma_lk = f"{born:%y%m%d}{self.visit_serial:07d}"
        named = g.rng.random() < 0.3
        cert = {
            "MA_LK": ma_lk, "MA_CSKCB": facility, "HO_TEN_NND": mother.full_name,
            "NGAYSINH_NND": _compact(mother.birth, "day"), "SO_CCCD_NND": g.id_as_recorded(mother.personal_id) or "",
            "MA_BHXH_NND": g.id_as_recorded(mother.bhxh) or "", "MA_THE_NND": g.id_as_recorded(mother.card) or "",
            "NOI_CU_TRU_NND": _addr_text(child, g.units, new=False),
            "MATINH_CU_TRU": child.household.old_commune.province_code,
            "MAHUYEN_CU_TRU": child.household.old_commune.parent_code, "MAXA_CU_TRU": child.household.old_commune.code,
            "HO_TEN_CHA": child.father.full_name if child.father else "",
            "HO_TEN_CON": child.full_name if named else "", "GIOI_TINH_CON": "1" if child.sex == "male" else "2",
            "NGAY_SINH_CON": born.strftime("%Y%m%d%H%M"), "CAN_NANG_CON": g.rng.randint(2200, 4000),
            "MA_THE_TAM": f"TE1{facility[:2]}{child.bhxh}", "SO_CON": 1, "NOI_SINH_CON": "Tại cơ sở",
        }
        xml9 = ("<CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH><DSACH_GIAYCHUNGSINH><DU_LIEU_GIAY_CHUNG_SINH>"
                + "".join(_x(k, v) for k, v in cert.items())
                + "</DU_LIEU_GIAY_CHUNG_SINH></DSACH_GIAYCHUNGSINH></CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH>")
        self._hoso("130", [("XML9", xml9)])
        g.count("hospital130", records=2)
        self.truth_row("hospital130", f"{facility}:{ma_lk}:con1", child)
        self.truth_row("hospital130", f"{facility}:{ma_lk}:me", mother)

    def _hoso(self, layout: str, tables: list[tuple[str, str]]) -> None:
        head = ('<?xml version="1.0" encoding="UTF-8"?>\n<GIAMDINHHS><THONGTINDONVI><MACSKCB/></THONGTINDONVI>'
                f"<THONGTINHOSO><NGAYLAP>{REFERENCE_DATE:%Y%m%d}</NGAYLAP><SOLUONGHOSO>0</SOLUONGHOSO>"
                "<DANHSACHHOSO>\n")
        fh = self._chunk(layout, "hospital130", f"xml{layout}-" + "{:04d}.xml", head)
        files = "".join(
            f"<FILEHOSO><LOAIHOSO>{kind}</LOAIHOSO><NOIDUNGFILE>"
            f"{base64.b64encode(content.encode()).decode()}</NOIDUNGFILE></FILEHOSO>"
            for kind, content in tables
        )
        fh.write(f"<HOSO>{files}</HOSO>\n")

    # -- FHIR ----------------------------------------------------------------------------------
    def fhir(self, p: Person) -> None:
        g = self.gen
        birth, precision = g.birth_as_recorded(p)
        name = g.name_as_recorded(p)
        parts = name.split()
        recorded = {"cccd": None if g.chance("missing_id") else g.id_as_recorded(p.personal_id),
                    "bhyt": g.id_as_recorded(p.card)}
        ident = [{"system": f"https://hoso.gov.vn/fhir/sid/{system}", "value": value}
                 for system, value in recorded.items() if value]
        pid = f"pt{p.truth_id[1:]}"
        patient: dict[str, Any] = {
            "resourceType": "Patient", "id": pid, "meta": {"source": FHIR_SYSTEM}, "identifier": ident,
            "name": [{"text": name, "family": parts[0], "given": parts[1:]}],
            "gender": p.sex, "birthDate": str(birth.year) if precision == "year" else birth.isoformat(),
            "address": [{"use": "home", "text": _addr_text(p, g.units, new=True)}],
        }
        if (phone := g.phone_as_recorded(p)) is not None:
            patient["telecom"] = [{"system": "phone", "value": phone}]
        # A collection Bundle as FHIR wants it: each entry has a fullUrl (`urn:uuid:`, as resources not
        # served anywhere are named), and references point at those fullUrls.
        def urn(kind: str, rid: str) -> str:
            return f"urn:uuid:{uuid.uuid5(FHIR_NAMESPACE, f'{FHIR_SYSTEM}/{kind}/{rid}')}"

        entries: list[dict[str, Any]] = [{"fullUrl": urn("Patient", pid), "resource": patient}]
        ref = {"reference": urn("Patient", pid)}
        for k in range(g.rng.choice([0, 1, 2])):
            when = datetime.combine(REFERENCE_DATE - timedelta(days=g.rng.randrange(1, 700)), datetime.min.time())
            eid = f"{pid}-e{k}"
            entries.append({"fullUrl": urn("Encounter", eid), "resource": {
                "resourceType": "Encounter", "id": eid, "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": ref, "period": {"start": when.isoformat() + "+07:00", "end": when.isoformat() + "+07:00"},
                "serviceProvider": {"identifier": {"system": FACILITY_SYSTEM,
                                                   "value": f"{p.household.old_commune.province_code}901"}}}})
            dx = p.chronic[0] if p.chronic else self.acute(when)
            entries.append({"fullUrl": urn("Condition", f"{eid}-c"), "resource": {
                "resourceType": "Condition", "id": f"{eid}-c", "subject": ref,
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                          "code": "encounter-diagnosis"}]}],
                "encounter": {"reference": urn("Encounter", eid)},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": dx}]}}})
        if "I10" in p.chronic:
            device = f"bpm-{pid}"
            entries.append({"fullUrl": urn("Device", device), "resource": {
                "resourceType": "Device", "id": device, "type": {"text": "Máy đo huyết áp tại nhà"},
                "patient": ref}})
            for k in range(g.rng.randint(1, 4)):
                when = datetime.combine(REFERENCE_DATE - timedelta(days=g.rng.randrange(1, 90)),
                                        datetime.min.time()).replace(hour=7)
                sbp = g.rng.randint(130, 170)
                entries.append({"fullUrl": urn("Observation", f"{pid}-bp{k}"), "resource": {
                    "resourceType": "Observation", "id": f"{pid}-bp{k}", "status": "final",
                    "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/bp"]},
                    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                              "code": "vital-signs"}]}],
                    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                    "subject": ref, "effectiveDateTime": when.isoformat() + "+07:00",
                    "device": {"reference": urn("Device", device)},
                    "component": [
                        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                         "valueQuantity": {"value": sbp, "unit": "mmHg", "system": UCUM_SYSTEM, "code": "mm[Hg]"}},
                        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                         "valueQuantity": {"value": sbp - 45, "unit": "mmHg", "system": UCUM_SYSTEM,
                                           "code": "mm[Hg]"}}]}})
        fh = self._chunk("fhir", "fhir", "bundles-{:04d}.ndjson", "")
        fh.write(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries},
                            ensure_ascii=False) + "\n")
        g.count("fhir", records=1)
        self.truth_row("fhir", f"{FHIR_SYSTEM}:{pid}", p)

    # -- a private clinic's CSV ----------------------------------------------------------------
    def clinic_row(self, p: Person) -> None:
        g = self.gen
        name = g.name_as_recorded(p, factor=1.5)
        parts = name.split()
        birth, precision = g.birth_as_recorded(p)
        hh = p.household
        code = f"PK{p.truth_id[1:]}"
        # The date in one column; when only the year is known, the year in another.
        written, year = ("", str(birth.year)) if precision == "year" else (birth.strftime("%d/%m/%Y"), "")
        bad = g.chance("invalid")
        if bad:
            written = "99/99/9999"
        self.clinic_csv.writerow([code, parts[0], " ".join(parts[1:-1]), parts[-1], written, year,
                                  "M" if p.sex == "male" else "F", g.phone_as_recorded(p) or "",
                                  _addr_text(p, g.units, new=False), hh.old_commune.province_code,
                                  hh.old_commune.parent_code, hh.old_commune.code,
                                  "" if g.chance("missing_id", 1.5) else g.id_as_recorded(p.personal_id) or ""])
        # A mapped CSV keeps a record whose date is bad, without the date (the value goes to quarantine).
        g.count("csv", records=1, dropped=int(bad))
        self.truth_row("csv", f"clinic-pk:{code}", p)


CLINIC_MAPPING = """# A private clinic's patient export: semicolon-separated, name in three columns.
[source]
system = "clinic-pk"
delimiter = ";"

[columns]
record_id = "ma_bn"
family_name = "ho"
middle_name = "ten_dem"
given_name = "ten"
birth_date = ["ngay_sinh", "nam_sinh"]  # the date, else the year
sex = "gioi"
phone = "sdt"
address = "dia_chi"
province_code = "tinh"
district_code = "huyen"
commune_code = "xa"
code_list = "pre2025"

[sex_codes]
M = "male"
F = "female"

[[identifiers]]
column = "cccd"
kind = "personal_id"

[[identifiers]]
column = "ma_bn"
kind = "facility_patient"
"""


def generate(config: SynthConfig, out: Path) -> dict[str, Any]:
    """Write the population's sources, `truth.csv` and `expected.json` under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(config, out)
    writers = Writers(gen, out)
    persons = 0
    rng = gen.rng
    try:
        for hh in gen.households():
            station_exports = int(hh.old_commune.code) % 10 < 7
            for p in hh.members:
                persons += 1
                writers.population_row(p)
                if station_exports and rng.random() < SOURCE_SHARE["commune831"] / 0.7:
                    writers.commune831(p)
                    if gen.chance("duplicate"):
                        writers.commune831(p, copy=2)
                if rng.random() < SOURCE_SHARE["hospital"] + (0.2 if p.chronic else 0):
                    writers.hospital(p)
                if p.age() < 2 and rng.random() < 0.9:
                    writers.birth_certificate(p)
                if rng.random() < 0.95:
                    writers.immunization_rows(p)
                if rng.random() < SOURCE_SHARE["fhir"] + (0.2 if "I10" in p.chronic else 0):
                    writers.fhir(p)
                if rng.random() < SOURCE_SHARE["clinic"]:
                    writers.clinic_row(p)
    finally:
        writers.close()
    summary = {"persons": persons, "seed": config.seed, "profile": config.profile,
               "reference_date": REFERENCE_DATE.isoformat(), "sources": gen.counts}
    (out / "expected.json").write_text(json.dumps(summary, indent=2))
    return summary
