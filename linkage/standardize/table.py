"""The linkage table: one row per source record, with the standardised fields the model compares.

Built from the flat columns of the batches (see `linkage.ingest.RECORD_SCHEMA`), with the same
functions the real-time matcher applies to one record. Values are computed once per distinct
input (names repeat a lot), so a million records standardise in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, datetime
from typing import Any

import pandas as pd

from linkage.standardize.addresses import address_key, postcode
from linkage.standardize.admin_units import AdminUnits, load_admin_units
from linkage.standardize.ids import bhxh_from_card, personal_id_consistent
from linkage.standardize.names import clean_name, family_key, is_placeholder_name, split_name
from linkage.standardize.phones import normalise_phone
from linkage.standardize.text import fold
from linkage.vocab import CodeList

LINKAGE_COLUMNS = [
    "unique_id", "source", "record_id", "batch_id", "name", "family_fold", "family_key", "middle_fold",
    "middle_last", "given_fold", "given_key", "middle_key", "name_set", "placeholder_name", "birth_date",
    "birth_year", "birth_ym",
    "birth_dm_swap", "birth_precision", "sex", "personal_id", "pid_ok", "cmnd", "bhxh", "other_id", "other_system",
    "phone", "commune", "province", "address_key", "postcode", "household_code", "mother_pid",
]  # fmt: skip


def other_id(facility_patient_ids: Any, other_ids: Any) -> str | None:
    """A record's first identifier of a system other than the national ones, as "<system>|<value>": an
    identifier of kind other or a passport, else a facility's patient code (batches ingested before
    other identifiers were kept have the facility codes only)."""
    for ids in (other_ids, facility_patient_ids):
        if ids is not None and len(ids):
            return str(ids[0])
    return None


def _map_unique(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """Apply `func` once per distinct value of `series`."""
    uniques = _values(series.dropna().drop_duplicates())
    table: dict[Hashable, Any] = {value: func(value) for value in uniques}
    return series.map(table)


def _values(series: pd.Series) -> list[Any]:
    """A column's values as a Python list, missing ones None (iterating over an Arrow-backed column
    converts one value at a time: three times slower)."""
    return series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]


def _fold_or_none(value: str | None) -> str | None:
    if not value:
        return None
    folded = fold(value)
    return folded or None


def _name_parts(row: tuple[Any, Any, Any, Any]) -> tuple[str | None, str | None, str | None]:
    written, family, middle, given = row
    if isinstance(written, str) and is_placeholder_name(written):
        return None, None, None
    if given:
        return family, middle, given
    return split_name(written) if written else (None, None, None)


def commune_post2025(code: str | None, code_list: str | None, units: AdminUnits) -> str | None:
    """The post-2025 commune of an address code (the default successor for a pre-2025 code)."""
    if not code:
        return None
    if code_list == CodeList.POST_2025.value:
        return code
    if code_list == CodeList.PRE_2025.value:
        new = units.to_post2025(code)
        return new[0] if new else None
    return None


# Up to this many records are standardised row by row (`standardise_one`, 1 ms for one record); the
# column-wise path costs 30 ms even for one record (a self-report) and wins from a few hundred on.
ROW_BY_ROW = 50
_LISTS = ("insurance_cards", "phones", "facility_patient_ids", "other_ids")


def standardise(records: pd.DataFrame, units: AdminUnits | None = None) -> pd.DataFrame:
    """The linkage table of a frame of flat batch records (empty for a batch that accepted none)."""
    if records.empty:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in LINKAGE_COLUMNS})
    units = units or load_admin_units()
    return _by_rows(records, units) if len(records) <= ROW_BY_ROW else _by_columns(records, units)


def _plain(value: Any, listed: bool) -> Any:
    """A batch frame's value as `standardise_one` takes it: lists as lists, missing values None."""
    if listed:
        return list(value) if value is not None else []
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _by_rows(records: pd.DataFrame, units: AdminUnits) -> pd.DataFrame:
    """`_by_columns` computed one record at a time (the same functions; a test checks they agree)."""
    rows = [standardise_one({str(k): _plain(v, k in _LISTS) for k, v in fields.items()}, units)
            for fields in records.to_dict("records")]
    out = pd.DataFrame(rows, columns=LINKAGE_COLUMNS, index=records.index).astype(object)
    out = place_newborns(out, out)
    return out[LINKAGE_COLUMNS].astype(object).where(out[LINKAGE_COLUMNS].notna(), None)


def _by_columns(records: pd.DataFrame, units: AdminUnits) -> pd.DataFrame:
    out = pd.DataFrame(index=records.index)
    out["unique_id"] = records["source"] + "|" + records["record_id"]
    out["source"] = records["source"]
    out["record_id"] = records["record_id"]
    out["batch_id"] = records["batch_id"]
    parts = [_name_parts(t) for t in zip(_values(records["name_as_written"]), _values(records["family_name"]),
                                         _values(records["middle_name"]), _values(records["given_name"]), strict=True)]
    family = pd.Series([p[0] for p in parts], index=records.index, dtype="object")
    middle = pd.Series([p[1] for p in parts], index=records.index, dtype="object")
    given = pd.Series([p[2] for p in parts], index=records.index, dtype="object")
    out["name"] = _map_unique(records["name_as_written"].fillna(
        family.fillna("") + " " + middle.fillna("") + " " + given.fillna("")), clean_name)
    out["family_fold"] = _map_unique(family, _fold_or_none)
    out["family_key"] = _map_unique(family, family_key)
    out["middle_fold"] = _map_unique(middle, _fold_or_none)
    out["middle_last"] = out["middle_fold"].map(lambda m: m.split()[-1] if isinstance(m, str) else None)
    out["given_fold"] = _map_unique(given, _fold_or_none)
    sex = records["sex"].where(records["sex"].isin(["male", "female"]))
    out["middle_key"] = _keyed(sex, out["family_fold"], out["middle_fold"])
    out["given_key"] = _keyed(sex, out["family_fold"], out["middle_fold"], out["given_fold"])
    # The family name with the last middle and the given name in sorted order: swapped names agree.
    out["name_set"] = [
        f"{f}|{'|'.join(sorted((m, g)))}" if isinstance(f, str) and isinstance(m, str) and isinstance(g, str) else None
        for f, m, g in zip(_values(out["family_key"]), _values(out["middle_last"]), _values(out["given_fold"]),
                           strict=True)
    ]
    out["placeholder_name"] = pd.Series([isinstance(n, str) and is_placeholder_name(n)
                                         for n in _values(records["name_as_written"])], index=records.index)

    precision = records["birth_precision"]
    birth = pd.to_datetime(records["birth_date"], errors="coerce")
    out["birth_precision"] = precision
    out["birth_year"] = birth.dt.year.astype("Int64")
    day = precision == "day"
    out["birth_date"] = birth.dt.strftime("%Y-%m-%d").where(day)
    out["birth_ym"] = birth.dt.strftime("%Y-%m").where(precision.isin(["day", "month"]))
    swappable = day & (birth.dt.day <= 12) & (birth.dt.day != birth.dt.month)
    swapped = birth.dt.year.astype("Int64").astype(str) + "-" + birth.dt.day.map("{:02.0f}".format) + "-" \
        + birth.dt.month.map("{:02.0f}".format)
    out["birth_dm_swap"] = swapped.where(swappable)
    out["sex"] = records["sex"].where(records["sex"].isin(["male", "female"]))
    out["personal_id"] = records["personal_id"]
    out["pid_ok"] = [
        personal_id_consistent(pid, sex, None if pd.isna(year) else int(year))
        for pid, sex, year in zip(_values(records["personal_id"]), _values(out["sex"]), out["birth_year"], strict=True)
    ]
    out["cmnd"] = records["cmnd"]
    cards_bhxh = records["insurance_cards"].map(
        lambda cards: next((b for c in cards if (b := bhxh_from_card(c))), None) if cards is not None else None)
    out["bhxh"] = records["bhxh"].fillna(cards_bhxh)
    out["other_id"] = [other_id(fp, other) for fp, other in zip(
        records["facility_patient_ids"], records["other_ids"] if "other_ids" in records else [None] * len(records),
        strict=True)]
    out["other_system"] = out["other_id"].map(lambda v: v.split("|", 1)[0] if isinstance(v, str) else None)
    out["phone"] = _map_unique(records["phones"].map(lambda p: p[0] if p is not None and len(p) else None),
                               normalise_phone)
    communes = [commune_post2025(c, cl, units) or commune_post2025(pc, pcl, units)
                for c, cl, pc, pcl in zip(_values(records["commune_code"]), _values(records["code_list"]),
                                          _values(records["permanent_commune_code"]),
                                          _values(records["permanent_code_list"]), strict=True)]
    out["commune"] = pd.Series(communes, index=records.index, dtype="object")
    # The province of the commune, else of the province code alone (either list, through the merger).
    of_commune = _map_unique(out["commune"], lambda c: (u.province_code if (
        u := units.commune(c, CodeList.POST_2025)) else None))
    of_code = [units.province_post2025(p, cl) or units.province_post2025(pp, pcl)
               for p, cl, pp, pcl in zip(_values(records["province_code"]), _values(records["code_list"]),
                                         _values(records["permanent_province_code"]),
                                         _values(records["permanent_code_list"]), strict=True)]
    out["province"] = of_commune.where(of_commune.notna(), pd.Series(of_code, index=records.index, dtype="object"))
    out["address_key"] = _map_unique(records["address_text"].where(
        records["address_text"].notna(), records["permanent_address_text"]), address_key)
    out["postcode"] = (_map_unique(records["postcode"], postcode) if "postcode" in records  # not in older batches
                       else pd.Series(None, index=records.index, dtype="object"))
    out["household_code"] = records["household_code"]
    out["mother_pid"] = records["mother_personal_id"]
    out = place_newborns(out, out)
    return out[LINKAGE_COLUMNS].astype(object).where(out[LINKAGE_COLUMNS].notna(), None)


_PLACES = ("commune", "province", "household_code", "address_key")
_NAME_AND_BIRTH = ("family_fold", "middle_fold", "given_fold", "birth_date")


def place_newborns(table: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Give a newborn recorded under its mother's name the mother's commune, household and address.

    Such a record carries no usable name and no address, only its birth date, sex, the temporary card
    and the mother's id; the mother's residence (from `reference`) is where the child will be seen.
    The mother is found by her personal id; where the certificate gives none, by the name and birth
    date of the mother's own record from the same certificate (`<facility>:<MA_LK>:me` beside the
    child's `...:con1`), when exactly one place in `reference` has a person of that name born that day;
    else the residence that record of the mother gives.
    """
    newborn = table["placeholder_name"].astype(bool)
    if not newborn.any():
        return table
    out = table.copy()
    by_pid = newborn & out["mother_pid"].notna()
    if by_pid.any():
        residents = reference[reference["personal_id"].notna() & reference["commune"].notna()]
        residents = residents.drop_duplicates("personal_id").set_index("personal_id")
        mothers = out.loc[by_pid, "mother_pid"]
        for column in _PLACES:
            found = mothers.map(residents[column])
            out.loc[by_pid, column] = out.loc[by_pid, column].where(out.loc[by_pid, column].notna(), found)
    certificate = newborn.copy()  # a child of a birth certificate (`...:con1`): read on the newborns only
    certificate[newborn] = out.loc[newborn, "record_id"].astype(str).str.contains(r":con\d+$", regex=True)
    if (certificate & out["commune"].isna()).any():
        _place_by_mothers_name(out, certificate & out["commune"].isna(), table, reference)
    if certificate.any():
        _place_by_mothers_record(out, certificate, table, reference)
    return out


def _mothers_records(out: pd.DataFrame, unplaced: pd.Series, table: pd.DataFrame,
                     reference: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """The unique id of the mother's record (`...:me`) of each `unplaced` child of a certificate that
    has one (indexed as `out`), and those records (of `table`, else `reference`) by unique id: only
    theirs are looked at, not the millions of a first load."""
    mother_uid = (out.loc[unplaced, "unique_id"].astype(str).str.replace(r":con\d+$", ":me", regex=True)
                  .astype(object))
    wanted = set(mother_uid.tolist())
    rows = [frame[frame["unique_id"].astype(object).isin(wanted)] for frame in (table, reference)]
    records = pd.concat(rows, ignore_index=True).drop_duplicates("unique_id").set_index("unique_id")
    return mother_uid[mother_uid.isin(set(records.index))], records


def _place_by_mothers_record(out: pd.DataFrame, unplaced: pd.Series, table: pd.DataFrame,
                             reference: pd.DataFrame) -> None:
    """What the name lookup left empty: the residence the mother gave on the same certificate (her
    `...:me` record's commune, province, address and postcode), which is the child's."""
    known, records = _mothers_records(out, unplaced, table, reference)
    if known.empty:
        return
    mothers = records.loc[known.to_numpy()]
    for column in ("commune", "province", "address_key", "postcode"):
        out[column] = out[column].astype(object)
        given = out.loc[known.index, column]
        found = pd.Series(mothers[column].to_numpy(), index=known.index, dtype="object")
        out.loc[known.index, column] = given.where(given.notna(), found)


def _place_by_mothers_name(out: pd.DataFrame, unplaced: pd.Series, table: pd.DataFrame,
                           reference: pd.DataFrame) -> None:
    """Place newborns through the mother's record of the same certificate: her name and birth date,
    looked up among the records that have a place (only where that finds one place)."""
    known, records = _mothers_records(out, unplaced, table, reference)
    if known.empty:
        return
    placed = reference[reference["commune"].notna() & reference["birth_date"].notna()
                       & reference["given_fold"].notna()]
    grouped = placed.groupby(list(_NAME_AND_BIRTH), dropna=False)
    places = grouped[list(_PLACES)].first()
    places.loc[grouped["commune"].nunique() > 1, :] = None  # namesakes born the same day in two places
    keys = pd.MultiIndex.from_frame(records.loc[known.to_numpy(), list(_NAME_AND_BIRTH)])
    found = places.reindex(keys)
    for column in _PLACES:
        values = found[column].astype(object)
        out[column] = out[column].astype(object)  # a column of a small table may be all NaN: float
        out.loc[known.index, column] = values.where(values.notna(), None).to_numpy()


def name_key(sex: str | None, *names: str | None) -> str | None:
    """A name with the bearer's sex and the names before it ("female|nguyen|thi" for a middle name,
    "female|nguyen|thi|lan" for a given name; an unknown sex or a missing earlier name is empty): the
    key of the name's frequency among the people who share the sex and the names before it
    (`linkage.matching.scoring.term_frequencies`). None when the name itself is missing."""
    if names[-1] is None:
        return None
    return "|".join([sex or "", *(n or "" for n in names)])


def name_keys(sex: str | None, family: str | None, middle: str | None, given: str | None) -> dict[str, str | None]:
    """The middle and the given name keyed (`name_key`)."""
    return {"middle_key": name_key(sex, family, middle), "given_key": name_key(sex, family, middle, given)}


# Columns a record's other columns determine: a store may leave them out and `with_name_keys` fills them.
NAME_KEYED = ("given_key", "middle_key")


def with_name_keys(record: dict[str, Any]) -> dict[str, Any]:
    """`record` with its names keyed (a record read from a store that keeps only the names and the sex)."""
    record.update(name_keys(record.get("sex"), record.get("family_fold"), record.get("middle_fold"),
                            record.get("given_fold")))
    return record


def _keyed(sex: pd.Series, *names: pd.Series) -> pd.Series:
    """`name_key` of each record."""
    columns = [_values(sex), *(_values(n) for n in names)]
    keys = [name_key(*(v if isinstance(v, str) else None for v in row)) for row in zip(*columns, strict=True)]
    return pd.Series(keys, index=sex.index, dtype="object")


def birth_keys(birth: date | None, precision: str | None) -> dict[str, str | None]:
    """The year-month and the day-month-transposed date of a date of birth of the given precision."""
    if birth is None:
        return {"birth_ym": None, "birth_dm_swap": None}
    swappable = precision == "day" and birth.day <= 12 and birth.day != birth.month
    return {
        "birth_ym": birth.strftime("%Y-%m") if precision in ("day", "month") else None,
        "birth_dm_swap": f"{birth.year}-{birth.day:02d}-{birth.month:02d}" if swappable else None,
    }


def standardise_one(fields: dict[str, Any], units: AdminUnits | None = None) -> dict[str, Any]:
    """The linkage row of one record given as flat fields, without pandas (the real-time path).

    It applies the same functions as `standardise`; a test checks both agree on every record of a
    synthetic population.
    """
    units = units or load_admin_units()
    get = fields.get
    source, record_id = get("source") or "query", get("record_id") or "q"
    family, middle, given = _name_parts((get("name_as_written"), get("family_name"), get("middle_name"),
                                         get("given_name")))
    written = get("name_as_written") or " ".join(p for p in (family, middle, given) if p)
    family_fold, middle_fold, given_fold = (_fold_or_none(family), _fold_or_none(middle), _fold_or_none(given))
    middle_last = middle_fold.split()[-1] if middle_fold else None
    key = family_key(family) if family else None
    birth = get("birth_date")
    if isinstance(birth, str):
        birth = date.fromisoformat(birth)
    if isinstance(birth, datetime):
        birth = birth.date()
    precision = get("birth_precision") or ("day" if isinstance(birth, date) else None)
    year = birth.year if isinstance(birth, date) else None
    day = isinstance(birth, date) and precision == "day"
    sex = get("sex") if get("sex") in ("male", "female") else None
    cards = get("insurance_cards") or []
    phones = get("phones") or []
    commune = commune_post2025(get("commune_code"), get("code_list"), units) or commune_post2025(
        get("permanent_commune_code"), get("permanent_code_list"), units)
    unit = units.commune(commune, CodeList.POST_2025) if commune else None
    province = unit.province_code if unit else (
        units.province_post2025(get("province_code"), get("code_list"))
        or units.province_post2025(get("permanent_province_code"), get("permanent_code_list")))
    return {
        "unique_id": f"{source}|{record_id}", "source": source, "record_id": record_id,
        "batch_id": get("batch_id"), "name": clean_name(written) if written else None,
        "family_fold": family_fold, "family_key": key, "middle_fold": middle_fold, "middle_last": middle_last,
        "given_fold": given_fold, **name_keys(sex, family_fold, middle_fold, given_fold),
        "name_set": f"{key}|{'|'.join(sorted((middle_last, given_fold)))}" if key and middle_last and given_fold
        else None,
        "placeholder_name": bool(get("name_as_written")) and is_placeholder_name(get("name_as_written")),
        "birth_date": birth.isoformat() if day and isinstance(birth, date) else None,
        "birth_year": year,
        **birth_keys(birth if isinstance(birth, date) else None, precision),
        "birth_precision": precision, "sex": sex, "personal_id": get("personal_id"),
        "pid_ok": personal_id_consistent(get("personal_id"), sex, year), "cmnd": get("cmnd"),
        "other_id": (oid := other_id(get("facility_patient_ids"), get("other_ids"))),
        "other_system": oid.split("|", 1)[0] if oid else None,
        "bhxh": get("bhxh") or next((b for c in cards if (b := bhxh_from_card(c))), None),
        "phone": normalise_phone(phones[0]) if phones else None, "commune": commune,
        "province": province, "address_key": address_key(get("address_text") or get("permanent_address_text")),
        "postcode": postcode(get("postcode")), "household_code": get("household_code"),
        "mother_pid": get("mother_personal_id"),
    }  # fmt: skip
