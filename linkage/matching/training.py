"""Training the model without labels, and the versioned store of trained models.

u from random sampling; the prior from deterministic rules; m by EM over more than one block, each
leaving out the columns it trains. The trained m and u values are checked before the model is kept:
an agreement level that is not more likely among matches than among non-matches means EM learnt
nonsense, and the training is refused with the comparison named.

A parameter the local data cannot estimate (a first batch from one source has no duplicates to run
EM on, and no pairs for the prior) is taken from the baseline model shipped with HoSo
(`linkage/matching/data/baseline_model.json`, trained on the realistic synthetic population by
`python -m linkage.synth.baseline`), level by level, and the model records which ones were.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, block_on

from linkage.errors import ModelError
from linkage.matching.engines import DUCKDB_MEMORY_LIMIT, duckdb_connection
from linkage.matching.model import TRAINING_BLOCKS, deterministic_rules, settings
from linkage.matching.scoring import term_frequencies
from linkage.matching.store import TrainedModel
from linkage.standardize import LINKAGE_COLUMNS

log = logging.getLogger(__name__)
BASELINE = Path(__file__).parent / "data" / "baseline_model.json"
MIN_EM_PAIRS = 50
MIN_RECORDS = 10  # fewer give Splink no pair to estimate the prior or u from

# The least evidence (bits) the best agreement level of each core comparison must carry. The family
# name is low: Nguyễn alone is 38% of people, so agreeing on a family name says little on average.
MINIMUM_WEIGHTS = {"personal_id": 5.0, "given_name": 3.0, "birth": 3.0, "family_name": 1.0}




def model_problems(settings_dict: dict[str, Any]) -> list[str]:
    """What is wrong with trained m/u values (empty when they look sane)."""
    problems = []
    for comparison in settings_dict["comparisons"]:
        name = comparison["output_column_name"]
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        top = levels[0]
        m, u = top.get("m_probability"), top.get("u_probability")
        if m is None or u is None:
            problems.append(f"{name}: level {top.get('label_for_charts')!r} was not estimated")
            continue
        weight = math.log2(m / u) if m > 0 and u > 0 else float("-inf")
        if weight < MINIMUM_WEIGHTS.get(name, 0.0):
            problems.append(f"{name}: agreement weighs only {weight:.1f} (m={m:.3g}, u={u:.3g})")
        if levels[-1].get("m_probability", 0) > 0.5 and name in MINIMUM_WEIGHTS:
            problems.append(f"{name}: most matches disagree (m of 'else' = {levels[-1]['m_probability']:.2f})")
    return problems


# EM drives a level it rarely sees to m of 1e-17 (a weight of -56): one re-issued card would then
# veto any match. Floors keep every level's evidence within what the data can support.
M_FLOOR = 1e-3
U_FLOOR = 1e-7


def with_floors(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """The settings with every m and u raised to at least their floor."""
    for comparison in settings_dict["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if level.get("m_probability") is not None:
                level["m_probability"] = max(level["m_probability"], M_FLOOR)
            if level.get("u_probability") is not None:
                level["u_probability"] = max(level["u_probability"], U_FLOOR)
    return settings_dict


def train(table: pd.DataFrame, seed: int = 42, max_pairs: float = 2e6,
          baseline: dict[str, Any] | None = None, use_baseline: bool = True,
          memory_limit: str = DUCKDB_MEMORY_LIMIT) -> TrainedModel:
    """Train the model on a linkage table (not yet saved: `ModelStore.save` gives it a version).

    What the table cannot support is filled from `baseline` (Splink settings; the shipped baseline
    model's when not given); the filled parameters are listed in the model's `meta["from_baseline"]`.
    A table of fewer than MIN_RECORDS records has no pair to learn from: the baseline is the model.
    """
    if len(table) < MIN_RECORDS:
        reference = (baseline if baseline is not None else load_baseline()) if use_baseline else None
        if reference is None:
            raise ModelError(f"{len(table)} record(s) are too few to train a model on: {MIN_RECORDS} are needed")
        log.warning("%d record(s) are too few to train on: the baseline model is used as it is", len(table))
        return TrainedModel(splink=reference, tf=term_frequencies(table), meta={"from_baseline": ["all"]})
    con = duckdb_connection(memory_limit)
    try:
        db_api = DuckDBAPI(connection=con)
        records = db_api.register(table, table_name="hoso_training_records")
        linker = Linker(records, settings(), log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(deterministic_rules(), recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        before = _m_values(linker.misc.save_model_to_json())
        for columns in TRAINING_BLOCKS:
            pairs = block_pairs(con, "hoso_training_records", columns)
            if pairs < MIN_EM_PAIRS:  # Splink's EM fails (and leaves its settings altered) on an empty block
                log.warning("EM block on %s skipped: %d pairs, %d needed", "+".join(columns), pairs, MIN_EM_PAIRS)
                continue
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*columns), estimate_without_term_frequencies=True)
        trained: dict[str, Any] = linker.misc.save_model_to_json()
    finally:
        con.close()
    after = _m_values(trained)
    for comparison in trained["comparisons"]:  # m values no EM block moved are Splink's starting guesses
        name = comparison["output_column_name"]
        if after[name] == before.get(name):
            for level in comparison["comparison_levels"]:
                level.pop("m_probability", None)
    reference = (baseline if baseline is not None else load_baseline()) if use_baseline else None
    filled = fill_from_baseline(trained, reference)
    if filled:
        log.warning("not estimable from these records, taken from the baseline model: %s", ", ".join(filled))
    trained = with_floors(trained)
    problems = model_problems(trained)
    if problems:
        raise ModelError("training learnt implausible weights: " + "; ".join(problems))
    return TrainedModel(splink=trained, tf=term_frequencies(table), meta={"from_baseline": filled} if filled else {})


def block_pairs(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> int:
    """How many record pairs agree on all `columns` (none null): the size of an EM block."""
    keys = ", ".join(f'"{c}"' for c in columns)
    present = " AND ".join(f'"{c}" IS NOT NULL' for c in columns)
    rows = con.execute(f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM "  # noqa: S608 - names from the model
                       f"(SELECT count(*) AS n FROM {table} WHERE {present} GROUP BY {keys})").fetchall()
    return int(rows[0][0])


def _m_values(settings_dict: dict[str, Any]) -> dict[str, list[float | None]]:
    return {c["output_column_name"]: [lv.get("m_probability") for lv in c["comparison_levels"]]
            for c in settings_dict["comparisons"]}


def load_baseline() -> dict[str, Any] | None:
    """The Splink settings of the baseline model shipped with HoSo (None when it cannot be read)."""
    try:
        return TrainedModel.read(BASELINE).splink
    except (OSError, ValueError):
        return None


def fill_from_baseline(trained: dict[str, Any], baseline: dict[str, Any] | None) -> list[str]:
    """Put the baseline's value wherever training left a parameter unestimated; name what was filled."""
    if baseline is None:
        return []
    filled: list[str] = []
    lam = trained.get("probability_two_random_records_match")
    if not lam or lam <= 0:
        trained["probability_two_random_records_match"] = baseline["probability_two_random_records_match"]
        filled.append("prior")
    old = {c["output_column_name"]: c for c in baseline["comparisons"]}
    for comparison in trained["comparisons"]:
        name = comparison["output_column_name"]
        reference = old.get(name)
        if reference is None or len(reference["comparison_levels"]) != len(comparison["comparison_levels"]):
            continue
        for index, (level, ref) in enumerate(zip(comparison["comparison_levels"], reference["comparison_levels"],
                                                 strict=True)):
            if level.get("is_null_level"):
                continue
            for key in ("m_probability", "u_probability"):
                if level.get(key) is None and ref.get(key) is not None:
                    level[key] = ref[key]
                    filled.append(f"{name}[{index}].{key[0]}")
    return filled


def match_weights_chart(model: TrainedModel, path: Path) -> Path:
    """Write the model's match-weight chart (Splink's Altair chart) as a self-contained HTML file."""
    con = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=con)
        empty = db_api.register(pd.DataFrame({c: pd.Series(dtype="object") for c in LINKAGE_COLUMNS}),
                                table_name="hoso_chart_records")
        linker = Linker(empty, model.splink, log_level=logging.WARNING)
        chart = linker.visualisations.match_weights_chart()
        chart.save(str(path), format="html", inline=True)
    finally:
        con.close()
    return path
