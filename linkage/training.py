"""Training the model without labels, and the versioned store of trained models.

u from random sampling; the prior from deterministic rules; m by EM over more than one block, each
leaving out the columns it trains. The trained m and u values are checked before the model is kept:
an agreement level that is not more likely among matches than among non-matches means EM learnt
nonsense, and the training is refused with the comparison named.

Models live in `DATA/models/model-vNNN.json`; `current` names the one linking uses.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker

from linkage.model import MODEL_NAME, deterministic_rules, settings, training_blocks
from linkage.standardize.table import LINKAGE_COLUMNS

log = logging.getLogger(__name__)

# The least evidence (bits) the best agreement level of each core comparison must carry. The family
# name is low: Nguyễn alone is 38% of people, so agreeing on a family name says little on average.
MINIMUM_WEIGHTS = {"personal_id": 5.0, "given_name": 3.0, "birth": 3.0, "family_name": 1.0}


class ModelError(Exception):
    """No usable model: none trained yet, or training learnt nonsense."""


@dataclass(frozen=True)
class TrainedModel:
    """A trained model: its version and its Splink settings (with m and u values)."""

    version: str
    settings: dict[str, Any]
    path: Path


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


def train(table: pd.DataFrame, seed: int = 42, max_pairs: float = 2e6) -> dict[str, Any]:
    """Train the model on a linkage table; returns the Splink settings dictionary."""
    con = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=con)
        records = db_api.register(table, table_name="hoso_training_records")
        linker = Linker(records, settings(), log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(deterministic_rules(), recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        for block in training_blocks():
            linker.training.estimate_parameters_using_expectation_maximisation(
                block, estimate_without_term_frequencies=True)
        trained: dict[str, Any] = linker.misc.save_model_to_json()
    finally:
        con.close()
    trained = with_floors(trained)
    problems = model_problems(trained)
    if problems:
        raise ModelError("training learnt implausible weights: " + "; ".join(problems))
    return trained


def for_dialect(trained: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The trained model's parameters on the model's comparisons rendered for another SQL dialect.

    A saved model holds SQL in the dialect it was trained with (DuckDB quotes identifiers with ",
    Spark with `); the comparisons are described once in `linkage.model`, so they are rendered anew
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


class ModelStore:
    """Versioned models under a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "models"

    def versions(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.stem.removeprefix("model-") for p in self.root.glob("model-v*.json"))

    def save(self, trained: dict[str, Any], meta: dict[str, Any]) -> TrainedModel:
        """Write a new version and make it current."""
        self.root.mkdir(parents=True, exist_ok=True)
        versions = self.versions()
        number = int(versions[-1][1:]) + 1 if versions else 1
        version = f"v{number:03d}"
        trained = {**trained, "hoso": {"model": MODEL_NAME, "version": version,
                                       "trained_at": datetime.now(UTC).isoformat(timespec="seconds"), **meta}}
        path = self.root / f"model-{version}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(trained, indent=2, ensure_ascii=False))
        tmp.replace(path)
        current = self.root / "current"
        tmp_current = self.root / ".current.tmp"
        tmp_current.write_text(version)
        os.replace(tmp_current, current)
        return TrainedModel(version=version, settings=trained, path=path)

    def current(self) -> TrainedModel:
        """The model linking uses; `ModelError` when none was trained."""
        pointer = self.root / "current"
        if not pointer.exists():
            raise ModelError("no trained model: run `hoso train` first")
        version = pointer.read_text().strip()
        path = self.root / f"model-{version}.json"
        return TrainedModel(version=version, settings=json.loads(path.read_text()), path=path)


def match_weights_chart(settings_dict: dict[str, Any], path: Path) -> Path:
    """Write the model's match-weight chart (Splink's Altair chart) as a self-contained HTML file."""
    con = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=con)
        clean = {k: v for k, v in settings_dict.items() if k not in ("hoso", "hoso_tf")}
        empty = db_api.register(pd.DataFrame({c: pd.Series(dtype="object") for c in LINKAGE_COLUMNS}),
                                table_name="hoso_chart_records")
        linker = Linker(empty, clean, log_level=logging.WARNING)
        chart = linker.visualisations.match_weights_chart()
        chart.save(str(path), format="html", inline=True)
    finally:
        con.close()
    return path

