"""HoSo's Splink model, described (no I/O): comparisons, blocking rules, training blocks.

Comparisons follow the Vietnamese facts: identifiers agree or not; family names agree exactly, as
Hoàng = Huỳnh / Vũ = Võ, or nearly; middle and given names may be swapped; a date of birth may be
year-only, transposed or slightly off; term-frequency adjustment makes agreeing on Nguyễn or Văn say
little. Blocking rules let records without any identifier still meet their duplicates. Each EM
training block leaves out the columns of the comparisons it trains.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

from linkage.errors import ModelError

MODEL_NAME = "hoso-person"


def _near(column: str) -> cll.CustomLevel:
    """Two ids one keystroke apart (a substituted digit, two adjacent digits swapped): a likely typo.

    Of two equal-length strings, a Damerau-Levenshtein distance of 1 is exactly that (an insertion
    or a deletion alone changes the length).
    """
    return cll.CustomLevel(f"length({column}_l) = length({column}_r) AND "
                           f"damerau_levenshtein({column}_l, {column}_r) = 1",
                           label_for_charts="one keystroke apart")


def _id_comparison(column: str, label: str) -> cl.CustomComparison:
    levels = [cll.NullLevel(column), cll.ExactMatchLevel(column).configure(m_probability=0.95, u_probability=1e-6),
              _near(column).configure(m_probability=0.01, u_probability=1e-5)]
    return cl.CustomComparison(output_column_name=column, comparison_description=label,
                               comparison_levels=[*levels, cll.ElseLevel().configure(m_probability=0.04)])


# The same given name (or the middle and given names swapped, or one keystroke apart), no middle
# name that differs, and no birth date that differs (a full date equal or transposed, else birth
# years at most a year apart): what makes a shared household or phone evidence of one person rather
# than of two relatives.
_LIKELY_SAME_PERSON = (
    "(given_fold_l = given_fold_r OR (given_fold_l = middle_last_r AND middle_last_l = given_fold_r) "
    "OR damerau_levenshtein(given_fold_l, given_fold_r) <= 1) "
    "AND (middle_fold_l IS NULL OR middle_fold_r IS NULL OR middle_fold_l = middle_fold_r "
    "OR middle_last_l = given_fold_r OR damerau_levenshtein(middle_fold_l, middle_fold_r) <= 1) "
    "AND (birth_year_l IS NULL OR birth_year_r IS NULL OR abs(birth_year_l - birth_year_r) <= 1) "
    "AND (birth_date_l IS NULL OR birth_date_r IS NULL OR birth_date_l = birth_date_r "
    "OR birth_date_l = birth_dm_swap_r)"
)


def _shared_by_relatives(column: str, label: str) -> cl.CustomComparison:
    """A household code or phone: relatives share it, so agreeing on it says little unless the names
    and birth years agree too. Household members are the hardest false matches: without this level a
    shared household, phone and address outweighed a different given name or birth year."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=label,
        comparison_levels=[
            cll.NullLevel(column),
            cll.CustomLevel(f"{column}_l = {column}_r AND {_LIKELY_SAME_PERSON}",
                            label_for_charts=f"same {label}, same given name and birth year",
                            ).configure(m_probability=0.9, u_probability=1e-5),
            cll.ExactMatchLevel(column).configure(m_probability=0.05, u_probability=1e-4),
            cll.ElseLevel().configure(m_probability=0.05),
        ],
    )


# Addresses in one commune, or on a side without a commune (a house number means nothing across communes).
_SAME_PLACE = "(commune_l IS NULL OR commune_r IS NULL OR commune_l = commune_r)"


def _house() -> cl.CustomComparison:
    """The address below the commune (house, lane, street, hamlet: `linkage.standardize.addresses`).
    Relatives share it, so like a phone it says much only with the names and birth years. No term
    frequencies: a house is shared by its household, not by chance, and the same key in the whole
    country (house 12) says nothing of one commune. No "nearly the same" level: house 12 and house
    123 are two houses."""
    return cl.CustomComparison(
        output_column_name="house",
        comparison_description="house, lane, street or hamlet (the address below the commune)",
        comparison_levels=[
            cll.NullLevel("address_key"),
            cll.CustomLevel(f"address_key_l = address_key_r AND {_SAME_PLACE} AND {_LIKELY_SAME_PERSON}",
                            label_for_charts="same house, same given name and birth year",
                            ).configure(m_probability=0.8, u_probability=1e-5),
            cll.CustomLevel(f"address_key_l = address_key_r AND {_SAME_PLACE}", label_for_charts="same house",
                            ).configure(m_probability=0.05, u_probability=1e-3),
            cll.ElseLevel().configure(m_probability=0.1),
        ],
    )


def _exact_within(column: str, keyed: str) -> Any:
    """The same name, weighed by its frequency among the people who share the bearer's sex and the
    names before it (`keyed`: `linkage.standardize.table.name_key`; the frequencies
    `linkage.matching.scoring.term_frequencies`).

    The family name is weighed by its frequency, the middle name by its frequency among the people of
    that sex and family name, the given name among those of that sex, family and middle name: three
    agreeing names together weigh what the whole name's frequency says, and a given name common in
    one family (or with one middle name) weighs what it does there. Middle and given names are a sex's
    own (Thị and Văn, Lan and Hùng): weighed by their frequency among everyone, agreeing on them counted
    again the sex the sex comparison had counted (about two bits too many between namesakes). The
    adjustment is relative to this level's own u (the frequency among everyone of agreeing on this
    name), as for Splink's own term-frequency levels."""
    return cll.ExactMatchLevel(column).configure(tf_adjustment_column=keyed, tf_adjustment_weight=1.0,
                                                 disable_tf_exact_match_detection=True)


def comparisons() -> list[Any]:
    """The comparisons of the model, in the order their weights are shown."""
    return [
        cl.CustomComparison(
            output_column_name="personal_id",
            comparison_description="12-digit personal id",
            comparison_levels=[
                cll.NullLevel("personal_id"),
                cll.CustomLevel("personal_id_l = personal_id_r AND pid_ok_l AND pid_ok_r",
                                label_for_charts="same id, consistent with sex and birth year",
                                ).configure(m_probability=0.95, u_probability=1e-7),
                cll.ExactMatchLevel("personal_id").configure(m_probability=0.02, u_probability=1e-6),
                _near("personal_id").configure(m_probability=0.01, u_probability=1e-6),
                cll.ElseLevel().configure(m_probability=0.02),
            ],
        ),
        _id_comparison("cmnd", "9-digit identity card (CMND)"),
        _id_comparison("bhxh", "social insurance number"),
        cl.CustomComparison(
            output_column_name="other_id",
            comparison_description="an identifier of another system (facility patient code, passport, ...)",
            comparison_levels=[
                # Codes of two different systems say nothing about each other: as if missing.
                cll.CustomLevel("other_id_l IS NULL OR other_id_r IS NULL OR other_system_l <> other_system_r",
                                label_for_charts="none, or of different systems").configure(is_null_level=True),
                cll.ExactMatchLevel("other_id").configure(m_probability=0.9, u_probability=1e-6),
                cll.ElseLevel().configure(m_probability=0.1),  # one system, two codes
            ],
        ),
        cl.CustomComparison(
            output_column_name="family_name",
            comparison_description="family name",
            comparison_levels=[
                cll.NullLevel("family_fold"),
                cll.ExactMatchLevel("family_fold", term_frequency_adjustments=True),
                cll.CustomLevel("family_key_l = family_key_r", label_for_charts="Hoàng = Huỳnh, Vũ = Võ"),
                cll.JaroWinklerLevel("family_fold", 0.88),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="middle_name",
            comparison_description="middle name(s)",
            comparison_levels=[
                cll.NullLevel("middle_fold"),
                _exact_within("middle_fold", "middle_key"),
                # Swapped names are weighed once, by the given-name comparison: here no weight either way.
                cll.CustomLevel("middle_last_l = given_fold_r AND given_fold_l = middle_last_r",
                                label_for_charts="middle and given swapped").configure(
                    m_probability=0.5, u_probability=0.5, fix_m_probability=True, fix_u_probability=True),
                cll.JaroWinklerLevel("middle_fold", 0.88).configure(m_probability=0.01),
                cll.ElseLevel().configure(m_probability=0.01),
            ],
        ),
        cl.CustomComparison(
            output_column_name="given_name",
            comparison_description="given name",
            comparison_levels=[
                cll.NullLevel("given_fold"),
                _exact_within("given_fold", "given_key"),
                cll.CustomLevel("given_fold_l = middle_last_r AND middle_last_l = given_fold_r",
                                label_for_charts="middle and given swapped"),
                cll.JaroWinklerLevel("given_fold", 0.9),
                # Short given names one letter apart (Diễm, Diễt) fall below any useful Jaro-Winkler bar.
                cll.CustomLevel("damerau_levenshtein(given_fold_l, given_fold_r) <= 1",
                                label_for_charts="one letter apart"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="birth",
            comparison_description="date of birth, aware of its precision",
            comparison_levels=[
                cll.NullLevel("birth_year"),
                # Weighed by the date's frequency: the 1st of January, written where the day was never
                # known, says less than a rare date (`linkage.matching.scoring.date_frequencies`).
                cll.ExactMatchLevel("birth_date", term_frequency_adjustments=True),
                cll.CustomLevel("birth_date_l = birth_dm_swap_r", label_for_charts="day and month transposed"),
                cll.CustomLevel("birth_year_l = birth_year_r AND (birth_date_l IS NULL OR birth_date_r IS NULL) "
                                "AND (birth_ym_l IS NULL OR birth_ym_r IS NULL OR birth_ym_l = birth_ym_r)",
                                label_for_charts="same year, one side year or month only"),
                cll.ExactMatchLevel("birth_ym").configure(m_probability=0.005),
                cll.ExactMatchLevel("birth_year").configure(m_probability=0.005),
                cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", label_for_charts="within a year",
                                ).configure(m_probability=0.005),
                cll.ElseLevel().configure(m_probability=0.005),
            ],
        ),
        cl.CustomComparison(
            output_column_name="sex",
            comparison_description="sex",
            comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
        ),
        _shared_by_relatives("phone", "phone"),
        cl.CustomComparison(
            output_column_name="address",
            comparison_description="commune or province of residence (post-2025 codes), or postcode",
            comparison_levels=[
                cll.CustomLevel("(commune_l IS NULL OR commune_r IS NULL) "
                                "AND (province_l IS NULL OR province_r IS NULL) "
                                "AND (postcode_l IS NULL OR postcode_r IS NULL)",
                                label_for_charts="no place to compare").configure(is_null_level=True),
                cll.ExactMatchLevel("commune"),
                # A postcode is a district's or a large unit's: it says little where communes say more.
                cll.CustomLevel("postcode_l = postcode_r AND (commune_l IS NULL OR commune_r IS NULL)",
                                label_for_charts="same postcode, one side without a commune",
                                ).configure(m_probability=0.02, u_probability=1e-3),
                cll.CustomLevel("province_l = province_r AND (commune_l IS NULL OR commune_r IS NULL)",
                                label_for_charts="same province, one side without a commune"),
                cll.ExactMatchLevel("province"),
                cll.ElseLevel(),
            ],
        ),
        _house(),
        _shared_by_relatives("household_code", "household"),
    ]


# Columns that must be equal (and not null) for blocking to propose a pair; one tuple per rule.
# The family name, the given name and the birth year (without the middle name, the date or a place) is
# no rule: with Vietnam's names its blocks are the largest (Nguyễn, a common given name, one year: 218
# records at 100,000 persons, growing with the population), 44 % of the pairs at 100,000 dense persons,
# and on every generator profile each true pair it proposed another rule proposed too (the full name
# with the year, the family name with the date, or with the year and the commune).
BLOCKING_KEYS: list[tuple[str, ...]] = [
    ("personal_id",),
    ("bhxh",),
    ("cmnd",),
    ("other_id",),
    ("phone",),
    ("given_fold", "birth_date"),
    ("family_key", "middle_fold", "given_fold", "commune"),
    ("household_code", "given_fold"),
    ("birth_date", "commune"),
    ("family_key", "middle_last", "birth_date"),
    ("name_set", "birth_year"),
    ("family_key", "birth_date"),
    ("birth_date", "household_code"),
    ("family_key", "birth_year", "commune"),
]


def prediction_blocking_rules() -> list[Any]:
    """Rules that propose pairs: ids first, then name and birth combinations for records without ids."""
    return [block_on(*keys) for keys in BLOCKING_KEYS]


_PERSON_COLUMNS = ("given_fold", "middle_fold", "middle_last", "birth_year", "birth_date", "birth_dm_swap")

# The columns each comparison reads: an EM block that fixes one of them cannot train that comparison.
COMPARISON_COLUMNS: dict[str, frozenset[str]] = {
    "personal_id": frozenset({"personal_id", "pid_ok"}),
    "cmnd": frozenset({"cmnd"}),
    "bhxh": frozenset({"bhxh"}),
    "other_id": frozenset({"other_id", "other_system"}),
    "family_name": frozenset({"family_fold", "family_key"}),
    "middle_name": frozenset({"middle_fold", "middle_last", "given_fold"}),
    "given_name": frozenset({"given_fold", "middle_last"}),
    "birth": frozenset({"birth_date", "birth_year", "birth_ym", "birth_dm_swap"}),
    "sex": frozenset({"sex"}),
    "phone": frozenset({"phone", *_PERSON_COLUMNS}),
    "address": frozenset({"commune", "province", "postcode"}),
    "house": frozenset({"address_key", "commune", *_PERSON_COLUMNS}),
    "household_code": frozenset({"household_code", *_PERSON_COLUMNS}),
}

# EM blocks (columns that must agree), in order of preference. Training runs a block when it has
# pairs enough and would train a comparison no block before it trained; each block trains the
# comparisons whose columns it leaves free. With personal ids, the first two train everything (as
# Splink's documentation does it: one block on the id, one on name and birth date); without ids the
# others take over: the birth date within a commune trains the names, the full name within a commune
# trains the birth date.
TRAINING_BLOCKS: list[tuple[str, ...]] = [
    ("personal_id",),
    ("family_key", "given_fold", "birth_date"),
    ("bhxh",),
    ("birth_date", "commune"),
    ("family_key", "middle_fold", "given_fold", "commune"),
    ("birth_date", "sex"),
    ("family_key", "middle_fold", "given_fold", "birth_year"),
]


def trains(block: tuple[str, ...]) -> set[str]:
    """The comparisons an EM block on `block` can train (those reading none of its columns)."""
    return {name for name, columns in COMPARISON_COLUMNS.items() if columns.isdisjoint(block)}


def own_columns(comparison: str) -> frozenset[str]:
    """The columns a comparison is about, without the names and birth dates its "same person" level
    reads only to tell one person from a relative (a phone's own column is the phone)."""
    return COMPARISON_COLUMNS[comparison] - frozenset(_PERSON_COLUMNS)


def rule_fixes(rule: str) -> set[str]:
    """The columns a deterministic rule requires equal on both sides (`l.x = r.x`)."""
    return set(re.findall(r"\bl\.(\w+) = r\.\1\b", rule))


def deterministic_rules() -> list[Any]:
    """Pairs that are almost surely matches, to estimate the prior probability of a match."""
    return [
        "l.personal_id = r.personal_id AND l.pid_ok AND r.pid_ok",
        "l.bhxh = r.bhxh AND l.birth_year = r.birth_year",
    ]


def deterministic_rules_without_ids() -> list[Any]:
    """The same for records that carry no identifier: the whole name and the whole birth date agree,
    and the address or phone does too where both sides have one (a full namesake born the same day
    in the same commune is rare even among Nguyễn Văn Hùng)."""
    name_and_birth = ("l.family_fold = r.family_fold AND l.middle_fold = r.middle_fold "
                      "AND l.given_fold = r.given_fold AND l.birth_date = r.birth_date")
    return [f"{name_and_birth} AND l.commune = r.commune", f"{name_and_birth} AND l.phone = r.phone",
            f"{name_and_birth} AND (l.commune IS NULL OR r.commune IS NULL) "
            "AND (l.phone IS NULL OR r.phone IS NULL)"]


def settings(prior: float | None = None) -> SettingsCreator:
    """The model's settings before training (with a prior probability of a match, when known)."""
    extra = {} if prior is None else {"probability_two_random_records_match": prior}
    return SettingsCreator(
        **extra,  # type: ignore[arg-type]
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=["personal_id", "bhxh"],
        max_iterations=25,
        em_convergence=0.001,
    )


def _comparison_shape(comparison: dict[str, Any]) -> tuple[str, int, tuple[str, ...]]:
    """A comparison's name, number of levels and the columns its term-frequency adjustments read."""
    levels = comparison.get("comparison_levels", [])
    return (comparison.get("output_column_name", ""), len(levels),
            tuple(str(level.get("tf_adjustment_column")) for level in levels if level.get("tf_adjustment_column")))


@lru_cache(maxsize=1)
def _shape() -> tuple[tuple[str, int, tuple[str, ...]], ...]:
    """Each comparison of this version's model (built once per process: Splink takes a sixth of a
    second to build the settings)."""
    return tuple(map(_comparison_shape, settings().get_settings("duckdb").as_dict()["comparisons"]))


def fits(trained: dict[str, Any]) -> bool:
    """Whether a saved model's comparisons, levels and term-frequency columns are this version's (a model
    trained by an earlier version of HoSo, with other comparisons, is retrained before linking; scoring
    renders its parameters on this version's comparisons meanwhile, `for_dialect`)."""
    return tuple(map(_comparison_shape, trained.get("comparisons", []))) == _shape()


def for_scoring(trained: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The settings to score with: a saved model as it is on DuckDB when it is this version's; rendered
    on this version's comparisons (`for_dialect`) for Spark, or when only the columns its term-frequency
    adjustments read have changed since it was saved (it scores as before until retrained)."""
    if dialect == "spark":
        return for_dialect(trained, dialect)
    if fits(trained) or [shape[:2] for shape in map(_comparison_shape, trained.get("comparisons", []))] != [
            shape[:2] for shape in _shape()]:
        return trained
    return for_dialect(trained, dialect)


def for_dialect(trained: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The trained model's parameters on the model's comparisons rendered for another SQL dialect.

    A saved model holds SQL in the dialect it was trained with (DuckDB quotes identifiers with ",
    Spark with `); the comparisons are described once in `linkage.matching.model`, so they are rendered anew
    for the engine and the trained m and u values are carried over level by level.
    """
    fresh: dict[str, Any] = settings().get_settings(dialect).as_dict()
    if len(fresh["comparisons"]) != len(trained["comparisons"]):
        raise ModelError("the saved model compares other fields than this version of HoSo: retrain (`hoso train`)")
    for new, old in zip(fresh["comparisons"], trained["comparisons"], strict=True):
        if (new["output_column_name"] != old["output_column_name"]
                or len(new["comparison_levels"]) != len(old["comparison_levels"])):
            raise ModelError(f"model and code disagree on comparison {old['output_column_name']!r}: "
                             "retrain (`hoso train`)")
        for new_level, old_level in zip(new["comparison_levels"], old["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if old_level.get(key) is not None:
                    new_level[key] = old_level[key]
    fresh["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    return fresh


# Each level's label (Splink's own for its library levels, this module's for the others) as a short key
# the reviewers' desk shows in words of either language.
_LEVEL_KEYS = {
    "All other comparisons": "different",
    "one keystroke apart": "one_keystroke",
    "same id, consistent with sex and birth year": "exact_consistent",
    "none, or of different systems": "missing",
    "no place to compare": "missing",
    "Hoàng = Huỳnh, Vũ = Võ": "family_variant",
    "middle and given swapped": "swapped",
    "one letter apart": "one_letter",
    "day and month transposed": "day_month_swapped",
    "same year, one side year or month only": "year_partial",
    "Exact match on birth_ym": "same_month",
    "Exact match on birth_year": "same_year",
    "within a year": "within_year",
    "Exact match on commune": "same_commune",
    "same province, one side without a commune": "province_no_commune",
    "Exact match on province": "same_province",
    "same phone, same given name and birth year": "same_person_shared",
    "same household, same given name and birth year": "same_person_shared",
    "same house, same given name and birth year": "same_person_shared",
    "same house": "exact",
    "same postcode, one side without a commune": "postcode_no_commune",
}


def level_key(label: str) -> str:
    """The short key of a comparison level's label: `exact`, `similar`, `missing`, `different`,
    `one_keystroke`, `day_month_swapped`, ... (the label itself when it is none of them)."""
    if label in _LEVEL_KEYS:
        return _LEVEL_KEYS[label]
    if label.endswith(" is NULL"):
        return "missing"
    if label.startswith("Exact match on "):
        return "exact"
    if label.startswith("Jaro-Winkler"):
        return "similar"
    return label
