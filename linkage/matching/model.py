"""HoSo's Splink model, described (no I/O): comparisons, blocking rules, training blocks.

Comparisons follow the Vietnamese facts: identifiers agree or not; family names agree exactly, as
Hoàng = Huỳnh / Vũ = Võ, or nearly; middle and given names may be swapped; a date of birth may be
year-only, transposed or slightly off; term-frequency adjustment makes agreeing on Nguyễn or Văn say
little. Blocking rules let records without any identifier still meet their duplicates. Each EM
training block leaves out the columns of the comparisons it trains.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

from linkage.errors import ModelError

MODEL_NAME = "hoso-person"


def _id_comparison(column: str, label: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=label,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(m_probability=0.95, u_probability=1e-6),
            cll.ElseLevel().configure(m_probability=0.05),
        ],
    )


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
                cll.ElseLevel().configure(m_probability=0.03),
            ],
        ),
        _id_comparison("cmnd", "9-digit identity card (CMND)"),
        _id_comparison("bhxh", "social insurance number"),
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
                cll.ExactMatchLevel("middle_fold", term_frequency_adjustments=True),
                cll.CustomLevel("middle_last_l = given_fold_r AND given_fold_l = middle_last_r",
                                label_for_charts="middle and given swapped"),
                cll.JaroWinklerLevel("middle_fold", 0.88).configure(m_probability=0.01),
                cll.ElseLevel().configure(m_probability=0.01),
            ],
        ),
        cl.CustomComparison(
            output_column_name="given_name",
            comparison_description="given name",
            comparison_levels=[
                cll.NullLevel("given_fold"),
                cll.ExactMatchLevel("given_fold", term_frequency_adjustments=True),
                cll.CustomLevel("given_fold_l = middle_last_r AND middle_last_l = given_fold_r",
                                label_for_charts="middle and given swapped"),
                cll.JaroWinklerLevel("given_fold", 0.9),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="birth",
            comparison_description="date of birth, aware of its precision",
            comparison_levels=[
                cll.NullLevel("birth_year"),
                cll.ExactMatchLevel("birth_date"),
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
        _id_comparison("phone", "phone (10-digit form)"),
        cl.CustomComparison(
            output_column_name="address",
            comparison_description="commune of residence (post-2025 codes)",
            comparison_levels=[
                cll.NullLevel("commune"),
                cll.ExactMatchLevel("commune"),
                cll.ExactMatchLevel("province"),
                cll.ElseLevel(),
            ],
        ),
        _id_comparison("household_code", "household"),
    ]


# Columns that must be equal (and not null) for blocking to propose a pair; one tuple per rule.
BLOCKING_KEYS: list[tuple[str, ...]] = [
    ("personal_id",),
    ("bhxh",),
    ("cmnd",),
    ("phone",),
    ("family_key", "given_fold", "birth_year"),
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


# EM blocks (columns that must agree); each trains the comparisons whose columns it does not fix.
TRAINING_BLOCKS: list[tuple[str, ...]] = [
    ("personal_id",),  # trains everything but the personal id
    ("family_key", "given_fold", "birth_date"),  # trains the ids, middle name, sex, phone, address
]


def training_blocks() -> list[Any]:
    """The EM blocks as Splink blocking rules."""
    return [block_on(*columns) for columns in TRAINING_BLOCKS]


def deterministic_rules() -> list[Any]:
    """Pairs that are almost surely matches, to estimate the prior probability of a match."""
    return [
        "l.personal_id = r.personal_id AND l.pid_ok AND r.pid_ok",
        "l.bhxh = r.bhxh AND l.birth_year = r.birth_year",
    ]


def settings() -> SettingsCreator:
    """The model's settings before training."""
    return SettingsCreator(
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


def for_dialect(trained: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The trained model's parameters on the model's comparisons rendered for another SQL dialect.

    A saved model holds SQL in the dialect it was trained with (DuckDB quotes identifiers with ",
    Spark with `); the comparisons are described once in `linkage.matching.model`, so they are rendered anew
    for the engine and the trained m and u values are carried over level by level.
    """
    fresh: dict[str, Any] = settings().get_settings(dialect).as_dict()
    for new, old in zip(fresh["comparisons"], trained["comparisons"], strict=True):
        if new["output_column_name"] != old["output_column_name"]:
            raise ModelError(f"model and code disagree on comparison {old['output_column_name']!r}: retrain")
        for new_level, old_level in zip(new["comparison_levels"], old["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if old_level.get(key) is not None:
                    new_level[key] = old_level[key]
    fresh["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    return fresh
