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
from linkage.matching.model import (
    COMPARISON_COLUMNS,
    TRAINING_BLOCKS,
    deterministic_rules,
    deterministic_rules_without_ids,
    own_columns,
    rule_fixes,
    settings,
    trains,
)
from linkage.matching.scoring import term_frequencies
from linkage.matching.store import TrainedModel
from linkage.standardize import LINKAGE_COLUMNS

log = logging.getLogger(__name__)
BASELINE = Path(__file__).parent / "data" / "baseline_model.json"
MIN_EM_PAIRS = 50
MAX_EM_PAIRS = 30_000_000  # a larger block costs more than it teaches: the next one is tried instead
MIN_PRIOR_PAIRS = 10  # fewer deterministic matches than this say nothing about the prior
MIN_RECORDS = 10  # fewer give Splink no pair to estimate the prior or u from
MIN_SURE_PAIRS = 100  # fewer sure pairs carrying a field say too little of how often one person's records differ on it

# The least evidence (bits) the best agreement level of each core comparison must carry. The family
# name is low: Nguyễn alone is 38% of people, so agreeing on a family name says little on average.
MINIMUM_WEIGHTS = {"personal_id": 5.0, "given_name": 3.0, "birth": 3.0, "family_name": 1.0}




def model_problems(settings_dict: dict[str, Any], present: set[str] | None = None) -> list[str]:
    """What is wrong with trained m/u values (empty when they look sane); only the comparisons in
    `present` (all when not given) are checked: the others have no data to have learnt from."""
    problems = []
    for comparison in settings_dict["comparisons"]:
        name = comparison["output_column_name"]
        if present is not None and name not in present:
            continue
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


# EM cannot tell a father from his son of the same name in a block of namesakes of one commune: it
# learns that many "matches" disagree on the birth date. A registry's records of one person disagree
# on the birth year by more than one in well under one in a hundred: the share is capped there, so
# a different birth year always counts against a match.
ELSE_CEILINGS = {"birth": 0.01}


def with_floors(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """The settings with every m and u raised to at least their floor, and the m of the "else" level of
    the comparisons in ELSE_CEILINGS lowered to at most their ceiling."""
    for comparison in settings_dict["comparisons"]:
        ceiling = ELSE_CEILINGS.get(comparison["output_column_name"])
        last = comparison["comparison_levels"][-1]
        if ceiling is not None and last.get("m_probability") is not None:
            last["m_probability"] = min(last["m_probability"], ceiling)
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if level.get("m_probability") is not None:
                level["m_probability"] = max(level["m_probability"], M_FLOOR)
            if level.get("u_probability") is not None:
                level["u_probability"] = max(level["u_probability"], U_FLOOR)
    return settings_dict


MIN_LABELLED_PAIRS = 10  # reviewers' pairs fewer than this teach the m values nothing reliable


def train(table: pd.DataFrame, seed: int = 42, max_pairs: float = 2e6,
          baseline: dict[str, Any] | None = None, use_baseline: bool = True,
          memory_limit: str = DUCKDB_MEMORY_LIMIT, labelled_matches: list[tuple[str, str]] | None = None,
          ) -> TrainedModel:
    """Train the model on a linkage table (not yet saved: `ModelStore.save` gives it a version).

    `labelled_matches` are pairs of records reviewers put in one person: after EM, Splink estimates
    the m values from them too (its estimates are averaged with EM's), so what reviewers taught
    the model survives retraining.

    What the table cannot support is filled from `baseline` (Splink settings; the shipped baseline
    model's when not given); the filled parameters are listed in the model's `meta["from_baseline"]`.
    A table of fewer than MIN_RECORDS records has no pair to learn from: the baseline is the model.
    """
    reference = (baseline if baseline is not None else load_baseline()) if use_baseline else None
    if len(table) < MIN_RECORDS:
        if reference is None:
            raise ModelError(f"{len(table)} record(s) are too few to train a model on: {MIN_RECORDS} are needed")
        log.warning("%d record(s) are too few to train on: the baseline model is used as it is", len(table))
        return TrainedModel(splink=reference, tf=term_frequencies(table), meta={"from_baseline": ["all"]})
    present = carried_comparisons(table)
    known = set(table["unique_id"]) if labelled_matches else set()
    labels = [(a, b) for a, b in labelled_matches or () if a in known and b in known]
    con = duckdb_connection(memory_limit)
    warnings = _SplinkWarnings()
    try:
        db_api = DuckDBAPI(connection=con)
        records = db_api.register(table, table_name="hoso_training_records")
        with warnings.caught():
            # EM needs a prior from the start: when no pair is almost surely a match, the baseline's.
            rules = prior_rules(con, "hoso_training_records")
            if rules is None and reference is None:
                raise ModelError("these records hold no pair that is almost surely one person (no shared id, "
                                 "nor a shared full name and birth date): there is nothing to learn how often "
                                 "records match from")
            prior = None if rules is not None or reference is None else reference[
                "probability_two_random_records_match"]
            linker = Linker(records, settings(prior), log_level=logging.WARNING)
            if rules is not None:
                linker.training.estimate_probability_two_random_records_match(rules, recall=0.8)
            linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
            before = _m_values(linker.misc.save_model_to_json())
            trained_so_far: set[str] = set()
            em_blocks: list[list[str]] = []
            # Without pairs that are surely matches the records hold (next to) no duplicates: EM would
            # learn from non-matches alone. The m values then all come from the baseline.
            for columns in TRAINING_BLOCKS if rules is not None else []:
                teaches = (trains(columns) & present) - trained_so_far
                if not teaches:
                    continue
                pairs = block_pairs(con, "hoso_training_records", columns)
                if not MIN_EM_PAIRS <= pairs <= MAX_EM_PAIRS:  # Splink's EM fails on an empty block
                    log.info("EM block on %s skipped: %d pairs (%d to %d are used)", "+".join(columns), pairs,
                             MIN_EM_PAIRS, MAX_EM_PAIRS)
                    continue
                snapshot = linker.misc.save_model_to_json()
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        block_on(*columns), estimate_without_term_frequencies=True)
                except ValueError as exc:  # e.g. a level's m underflowing to 0 in one block
                    log.warning("EM block on %s failed, its comparisons are left to other blocks or the "
                                "baseline: %s", "+".join(columns), " ".join(str(exc).split())[:200])
                    linker = Linker(records, snapshot, log_level=logging.WARNING)  # EM altered its settings
                    continue
                trained_so_far |= trains(columns) & present
                em_blocks.append(list(columns))
            if len(labels) >= MIN_LABELLED_PAIRS:
                registered = db_api.register(pd.DataFrame(labels, columns=["unique_id_l", "unique_id_r"]),
                                             table_name="hoso_review_labels")
                linker.training.estimate_m_from_pairwise_labels(registered)
            elif labelled_matches:
                log.warning("%d reviewed pair(s) among these records, %d needed: the reviews were not used",
                            len(labels), MIN_LABELLED_PAIRS)
            trained: dict[str, Any] = linker.misc.save_model_to_json()
        after = _m_values(trained)
        unobserved = sorted(name for name in present if after[name][-1] == before.get(name, [None])[-1])
        disagreements = ({} if rules is None else
                         sure_pair_disagreement(con, "hoso_training_records", trained, rules, unobserved))
    finally:
        con.close()
    warnings.summarise()
    for comparison in trained["comparisons"]:  # m values no EM block moved are Splink's starting guesses
        name = comparison["output_column_name"]
        if after[name] == before.get(name):
            for level in comparison["comparison_levels"]:
                level.pop("m_probability", None)
    absent = sorted(set(COMPARISON_COLUMNS) - present)
    for comparison in trained["comparisons"]:  # what EM made of a field no record has means nothing
        if comparison["output_column_name"] in absent:
            for level in comparison["comparison_levels"]:
                level.pop("m_probability", None)
                level.pop("u_probability", None)
    filled = (["prior"] if prior is not None else []) + fill_from_baseline(trained, reference)
    set_disagreement(trained, disagreements)
    if filled:
        log.warning("not estimable from these records, taken from the baseline model: %s", ", ".join(filled))
    if disagreements:
        log.info("how often one person's records differ, from the pairs that are surely one person: %s",
                 ", ".join(f"{name} {share:.2%}" for name, share in disagreements.items()))
    if absent:
        log.warning("these records carry no %s: %s", ", ".join(absent),
                    "the baseline's weights stand in" if reference is not None
                    else "the model gives them no weight until trained on records that do")
    neutral = neutral_where_unknown(trained)
    if neutral:
        log.info("levels no block could train (given the floor, or no weight): %s", ", ".join(neutral))
    trained = with_floors(trained)
    problems = model_problems(trained, present)
    if problems:
        raise ModelError("training learnt implausible weights: " + "; ".join(problems))
    # What the training did, so that it can be repeated (the benchmark gives bare Splink the same calls).
    meta: dict[str, Any] = {"em_blocks": em_blocks, "prior_rules": rules}
    if filled:
        meta["from_baseline"] = filled
    if disagreements:
        meta["from_sure_pairs"] = disagreements
    if len(labels) >= MIN_LABELLED_PAIRS:
        meta["reviewed_pairs"] = len(labels)
    return TrainedModel(splink=trained, tf=term_frequencies(table), meta=meta)


def carried_comparisons(table: pd.DataFrame) -> set[str]:
    """The comparisons the table has data for: at least two records carry every column they read
    (the personal id's consistency flag aside)."""
    read = set().union(*COMPARISON_COLUMNS.values()) & set(table.columns)
    counts = {column: int(table[column].notna().sum()) for column in read}
    return {name for name, columns in COMPARISON_COLUMNS.items()
            if any(counts.get(column, 0) >= 2 for column in columns - {"pid_ok"})}


def prior_rules(con: duckdb.DuckDBPyConnection, table: str) -> list[Any] | None:
    """The rules to estimate the prior probability of a match from: pairs that are almost surely
    matches (Splink assumes the rules find 80% of them).

    Pairs agreeing on a valid personal id (or an insurance number and a birth year) when the records
    hold enough of them; else pairs agreeing on the whole name, the whole birth date and the commune
    or phone; None when neither finds pairs enough.
    """
    for rules in (deterministic_rules(), deterministic_rules_without_ids()):
        if rule_pairs(con, table, rules) >= MIN_PRIOR_PAIRS:
            return rules
    return None


def rule_pairs(con: duckdb.DuckDBPyConnection, table: str, rules: list[Any]) -> int:
    """How many distinct record pairs at least one of `rules` (SQL on l. and r.) holds for."""
    pairs = " UNION ".join(f"SELECT l.unique_id AS a, r.unique_id AS b FROM {table} l JOIN {table} r "  # noqa: S608
                           f"ON l.unique_id < r.unique_id AND ({rule})" for rule in rules)
    rows = con.execute(f"SELECT count(*) FROM ({pairs})").fetchall()  # noqa: S608 - rules from the model
    return int(rows[0][0])


def sure_pair_disagreement(con: duckdb.DuckDBPyConnection, table: str, trained: dict[str, Any], rules: list[Any],
                           names: list[str]) -> dict[str, float]:
    """How often one person's records disagree on each comparison in `names`: among the pairs that are
    surely one person (the prior's `rules`), the share of those carrying the comparison that fall in
    its last level ("else"). Only rules that leave the comparison's own columns free count (pairs found
    by an equal phone say nothing of how often phones differ); a comparison fewer than MIN_SURE_PAIRS
    such pairs carry is left out.

    This is the m of a disagreement no EM block can see: the house, the phone and the household read
    the names and birth dates (their "same person" level), which every block without ids fixes; and in
    a block on the personal id, a level no pair fell into keeps Splink's starting value. A guessed m
    of 0.1 for "another house" made two namesakes born the same day in different houses about 0.9
    likely one person where a third of them were.
    """
    comparisons = {c["output_column_name"]: c for c in trained["comparisons"]}
    shares: dict[str, float] = {}
    for name in names:
        usable = [rule for rule in rules if not rule_fixes(rule) & own_columns(name)]
        if not usable:
            continue
        levels = comparisons[name]["comparison_levels"]
        null = [f"coalesce(({lv['sql_condition']}), false)" for lv in levels if lv.get("is_null_level")]
        agree = [f"coalesce(({lv['sql_condition']}), false)" for lv in levels[:-1] if not lv.get("is_null_level")]
        columns = ", ".join(f'l."{c}" AS "{c}_l", r."{c}" AS "{c}_r"' for c in sorted(COMPARISON_COLUMNS[name]))
        pairs = " UNION ".join(f"SELECT l.unique_id AS a, r.unique_id AS b FROM {table} l JOIN {table} r "  # noqa: S608
                               f"ON l.unique_id < r.unique_id AND ({rule})" for rule in usable)
        carried = f"NOT ({' OR '.join(null)})" if null else "true"
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT ({' OR '.join(agree) or 'false'})) FROM ("  # noqa: S608
            f"SELECT {columns} FROM ({pairs}) p JOIN {table} l ON l.unique_id = p.a "
            f"JOIN {table} r ON r.unique_id = p.b) WHERE {carried}").fetchone()
        carrying, differing = (int(row[0]), int(row[1])) if row else (0, 0)
        if carrying >= MIN_SURE_PAIRS:
            shares[name] = differing / carrying
    return shares


def set_disagreement(trained: dict[str, Any], shares: dict[str, float]) -> None:
    """Put each share of `sure_pair_disagreement` as the m of its comparison's "else" level, the m of the
    other levels scaled to make up the rest (the floors apply after); a comparison whose other levels
    have no m (no EM block, no baseline) is left as it is, and the share dropped from `shares`."""
    for comparison in trained["comparisons"]:
        name = comparison["output_column_name"]
        if name not in shares:
            continue
        *levels, last = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        total = sum(level.get("m_probability") or 0.0 for level in levels)
        if total <= 0 or any(level.get("m_probability") is None for level in levels):
            del shares[name]
            continue
        for level in levels:
            level["m_probability"] *= (1 - shares[name]) / total
        last["m_probability"] = shares[name]


def neutral_where_unknown(trained: dict[str, Any]) -> list[str]:
    """Fill every level still without m or u (no block trained it, no baseline filled it).

    In a comparison that EM trained, a level without m is one no match fell into: m is the floor
    (strong evidence against, as it should be). In a comparison nothing trained, m = u: no weight
    either way. Splink itself would give such a level no weight and warn at every prediction. Name
    the levels filled.
    """
    neutral = []
    for comparison in trained["comparisons"]:
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        was_trained = any(level.get("m_probability") is not None for level in levels)
        for index, level in enumerate(comparison["comparison_levels"]):
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or (m is not None and u is not None):
                continue
            if m is None:
                m = M_FLOOR if was_trained and u is not None else u
            level["m_probability"], level["u_probability"] = (m, u) if u is not None else (m, m)
            if level["m_probability"] is None:
                level["m_probability"] = level["u_probability"] = 0.5
            neutral.append(f"{comparison['output_column_name']}[{index}]")
    return neutral


class _SplinkWarnings:
    """Splink's warnings during training, kept and summarised in one line instead of dozens."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def caught(self) -> _Catching:
        return _Catching(self)

    def summarise(self) -> None:
        if not self.messages:
            return
        first = " ".join(self.messages[0].replace("WARNING:", "").split())[:200]
        log.info("Splink warned %d time(s) during training (levels some blocks cannot train are normal); "
                 "the first: %s", len(self.messages), first)


class _Catching(logging.Handler):
    def __init__(self, into: _SplinkWarnings) -> None:
        super().__init__(logging.WARNING)
        self.into = into
        self.logger = logging.getLogger("splink")

    def emit(self, record: logging.LogRecord) -> None:
        self.into.messages.append(record.getMessage())

    def __enter__(self) -> _Catching:
        self.saved = (self.logger.handlers[:], self.logger.propagate)
        self.logger.handlers, self.logger.propagate = [self], False
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.handlers, self.logger.propagate = self.saved


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
