"""The compiled real-time scorer gives Splink's numbers: every level of every comparison, on real DuckDB."""

from __future__ import annotations

import copy
import json
import math
import random
import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from graph.identity import RECORD_PROPS
from linkage import pipeline
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.matching import BASELINE, TrainedModel, level_key, scoring
from linkage.matching.compiled import CompiledModel, NotCompilable, compile_condition
from linkage.matching.realtime import RealtimeMatcher
from linkage.matching.scoring import Scorer
from linkage.standardize import NAME_KEYED, name_keys
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.IMMUNIZATION, SourceKind.FHIR)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scorer, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("compiled")
    synth, data = root / "synth", root / "data"
    generate(SynthConfig(persons=1200, seed=3, profile="realistic"), synth)
    for kind, files, _ in synthetic_inputs(synth, KINDS):
        ingest(kind, files, data)
    table = pipeline.load_tables(data, pipeline.all_batch_ids(data))
    model = pipeline.train_model(data, table=table)
    # Batches made within one second are ordered by their ids: sorted, the rows (and the sample the
    # tests draw from them) are the same in every run.
    rows = table.sort_values("unique_id").to_dict("records")
    return pipeline.scorer_for(model, table), [{str(k): v for k, v in row.items()} for row in rows]


def _variants(query: dict[str, Any]) -> list[dict[str, Any]]:
    """The query's record altered so that the levels random pairs rarely reach are reached too."""
    out = [{**query, "unique_id": "v-pid-unchecked", "pid_ok": False},
           {**query, "unique_id": "v-no-birth", "birth_year": None, "birth_date": None, "birth_ym": None,
            "birth_dm_swap": None},
           {**query, "unique_id": "v-no-sex", "sex": None},
           {**query, "unique_id": "v-no-name", "family_fold": None, "middle_fold": None, "given_fold": None}]
    if given := query["given_fold"]:  # one letter changed: Jaro-Winkler's level, or for short names the next
        changed = given[:-1] + ("x" if given[-1] != "x" else "y")
        out.append({**query, "unique_id": "v-given-letter", "given_fold": changed})
        if (middle := query["middle_last"]) and middle != given:  # the middle and given names swapped
            out.append({**query, "unique_id": "v-swapped", "middle_fold": given, "middle_last": given,
                        "given_fold": middle})
    if query["other_id"]:  # the same system's code, and another code of that system
        out.append({**query, "unique_id": "v-other-same"})
        out.append({**query, "unique_id": "v-other-code", "other_id": query["other_id"] + "x"})
    for column in ("personal_id", "cmnd", "bhxh"):  # an id one keystroke from the query's
        if value := query[column]:
            typo = value[:-1] + str((int(value[-1]) + 1) % 10)
            out.append({**query, "unique_id": f"v-near-{column}", column: typo})
    if query["province"]:  # the same province, without a commune
        out.append({**query, "unique_id": "v-province-only", "commune": None, "postcode": None})
    if query["commune"] and query["postcode"]:  # the same postcode, one side without a commune
        out.append({**query, "unique_id": "v-postcode-only", "commune": None, "province": None})
    out.append({**query, "unique_id": "v-no-address", "address_key": None})
    if query["commune"] and query["province"]:  # another commune of the same province
        out.append({**query, "unique_id": "v-next-commune", "commune": f"{int(query['commune']) + 1:05d}"})
    return out


def test_compiled_scores_equal_splinks_sql_at_every_level(trained: tuple[Scorer, list[dict[str, Any]]]) -> None:
    scorer, rows = trained
    compiled = scorer.compiled
    assert compiled is not None
    rng = random.Random(5)
    near: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:  # records a blocking rule would bring together, and strangers
        near.setdefault((row["family_key"], row["birth_year"]), []).append(row)
        near.setdefault(row["given_fold"], []).append(row)
    reached: list[set[int]] = [set() for _ in compiled.comparisons]
    con = duckdb.connect(config={"threads": 1})
    pairs = 0
    try:
        for sampled in rng.sample([r for r in rows if r["personal_id"]], 120):
            query = {**sampled, "postcode": "10000"}  # no synthetic source writes a postcode
            candidates = (near[(query["family_key"], query["birth_year"])] + near[query["given_fold"]])[:20]
            candidates += rng.sample(rows, 8) + _variants(query)
            fast = {p.unique_id_r: p for p in scorer.compare(query, candidates)}
            slow = {p.unique_id_r: p for p in scorer.compare_sql(query, candidates, con)}
            ranked = {p.unique_id_r: p for p in scorer.compare(query, candidates, weights=False)}
            assert fast.keys() == slow.keys() == ranked.keys()
            assert all(ranked[uid][2:4] == fast[uid][2:4] and ranked[uid].weights == {} for uid in fast)
            for uid, expected in slow.items():
                got = fast[uid]
                assert got.unique_id_l == expected.unique_id_l
                assert got.match_weight == pytest.approx(expected.match_weight, abs=1e-9)
                assert got.match_probability == pytest.approx(expected.match_probability, abs=1e-12)
                assert got.weights.keys() == expected.weights.keys()
                for name, weight in expected.weights.items():
                    assert got.weights[name] == pytest.approx(weight, abs=1.001e-3), name  # both rounded to 3
                pairs += 1
            left = scorer._rt_row("l", query)
            for candidate in candidates:
                for i, level in enumerate(compiled.levels(left, scorer._rt_row("r", candidate))):
                    reached[i].add(level)
    finally:
        con.close()
    assert pairs > 3000
    missed = {c.name: sorted(set(range(len(c.levels))) - seen)
              for c, seen in zip(compiled.comparisons, reached, strict=True) if seen != set(range(len(c.levels)))}
    assert not missed, f"levels no pair reached (the comparison was not checked there): {missed}"


def test_a_scorer_for_another_population_scores_with_its_own_prior(trained: tuple[Scorer, list[dict[str, Any]]]
                                                                   ) -> None:
    """The prior follows the population, so it changes at every link: the comparisons are compiled once
    per process whatever it is, and each scorer still scores with its own, as Splink's SQL does."""
    scorer, rows = trained
    prior = float(scorer.model["probability_two_random_records_match"])
    other = Scorer({**scorer.model, "probability_two_random_records_match": prior / 7}, scorer.tf)
    assert other.compiled is not None and scorer.compiled is not None
    assert other.compiled.comparisons is scorer.compiled.comparisons  # compiled once
    query = next(r for r in rows if r["personal_id"])
    candidates = [r for r in rows if r["family_key"] == query["family_key"]][:30] + rows[:10]
    con = duckdb.connect(config={"threads": 1})
    try:
        slow = {p.unique_id_r: p for p in other.compare_sql(query, candidates, con)}
    finally:
        con.close()
    fast = {p.unique_id_r: p for p in other.compare(query, candidates)}
    before = {p.unique_id_r: p for p in scorer.compare(query, candidates)}

    def odds(probability: float) -> float:  # the prior's match weight
        return math.log2(probability / (1 - probability))

    assert fast.keys() == slow.keys() and len(fast) > 5
    for uid, expected in slow.items():
        assert fast[uid].match_weight == pytest.approx(expected.match_weight, abs=1e-9)
        assert fast[uid].match_weight == pytest.approx(before[uid].match_weight - odds(prior) + odds(prior / 7),
                                                       abs=1e-9)


def test_a_server_compiles_the_model_before_its_first_job_and_never_again(tmp_path: Path) -> None:
    """`pipeline.prepare` (what the job worker runs when it starts) reads and compiles the current model;
    a link of a self-report then finds it compiled, whatever the population it links among."""
    assert pipeline.prepare(tmp_path / "none") is None  # no model yet: nothing to prepare, no error
    generate(SynthConfig(persons=300, seed=9), tmp_path / "synth")
    for kind, files, _ in synthetic_inputs(tmp_path / "synth", KINDS[:2]):
        ingest(kind, files, tmp_path / "data")
    table = pipeline.load_tables(tmp_path / "data", pipeline.all_batch_ids(tmp_path / "data"))
    model = pipeline.train_model(tmp_path / "data", table=table)
    scoring._compiled.cache_clear()
    assert pipeline.prepare(tmp_path / "data") == model.version
    assert scoring._compiled.cache_info().currsize == 1
    for population in (len(table) * 3, len(table) * 5):  # each link's prior its own; the comparisons kept
        assert pipeline.scorer_for(model, table, population=population).compiled is not None
    assert scoring._compiled.cache_info().misses == 1


def test_a_pair_explained_is_the_waterfall_of_its_score_in_words(trained: tuple[Scorer, list[dict[str, Any]]]
                                                                   ) -> None:
    """What the review desk shows of a pair: the prior, each comparison's level and weight adding up to
    the score, and every level of the model with a key the pages put in words."""
    scorer, rows = trained
    compiled = scorer.compiled
    assert compiled is not None
    rng = random.Random(11)
    for query in rng.sample(rows, 40):
        candidates = rng.sample(rows, 3) + _variants(query)
        for candidate, scored in zip(candidates, scorer.compare(query, candidates), strict=True):
            prior, total, probability, steps = scorer.explain(query, candidate)
            assert total == pytest.approx(scored.match_weight, abs=1e-9)
            assert probability == pytest.approx(scored.match_probability, abs=1e-12)
            assert prior + sum(weight for _, _, weight in steps) == pytest.approx(total, abs=1e-9)
            assert {name: round(weight, 3) for name, _, weight in steps if name in scored.weights} == scored.weights
    labels = {level.label for comparison in compiled.comparisons for level in comparison.levels}
    unnamed = sorted(label for label in labels if level_key(label) == label)
    assert unnamed == [], "give these levels a key (linkage.matching.model) and words (api/ui/app.js)"
    pages = (Path(__file__).resolve().parent.parent / "api" / "ui" / "app.js").read_text(encoding="utf-8")
    wordless = sorted(key for key in {level_key(label) for label in labels} if pages.count(f" level_{key}:") != 2)
    assert wordless == [], "give these level keys words in both languages of api/ui/app.js"


def test_conditions_keep_sqls_three_valued_logic() -> None:
    same = compile_condition('"a_l" = "a_r"')
    assert same({"a": "x"}, {"a": "x"}) is True
    assert same({"a": "x"}, {"a": "y"}) is False
    assert same({"a": None}, {"a": "x"}) is None  # unknown: the level is not selected
    either_null = compile_condition('"a_l" IS NULL OR "a_r" IS NULL')
    assert either_null({"a": None}, {"a": "x"}) is True and either_null({"a": "x"}, {"a": "x"}) is False
    checked = compile_condition("a_l = a_r AND ok_l AND ok_r")
    assert checked({"a": 1, "ok": True}, {"a": 1, "ok": None}) is None
    assert checked({"a": 1, "ok": True}, {"a": 2, "ok": None}) is False  # FALSE AND NULL is FALSE
    assert compile_condition("a_l = a_r OR b_l = b_r")({"a": None, "b": 1}, {"a": 1, "b": 1}) is True
    assert compile_condition("NOT (a_l = a_r)")({"a": None}, {"a": 1}) is None
    assert compile_condition("a_l IS NOT NULL")({"a": 0}, {}) is True
    near_year = compile_condition("abs(y_l - y_r) <= 1")
    assert near_year({"y": 1990}, {"y": 1991}) is True and near_year({"y": 1990}, {"y": 1992}) is False
    fuzzy = compile_condition("jaro_winkler_similarity(n_l, n_r) >= 0.88")
    assert fuzzy({"n": "nguyen"}, {"n": "nguyn"}) is True and fuzzy({"n": "nguyen"}, {"n": "tran"}) is False
    assert fuzzy({"n": None}, {"n": "tran"}) is None


@pytest.mark.parametrize("sql", ["levenshtein(a_l, a_r) <= 1", "a_l LIKE 'x%'", "l.a = r.a", "a = b",
                                 "jaro_winkler_similarity(a_l, a_r, 0.5) > 0.9", "a_l IS TRUE", "a_l = (("])
def test_sql_outside_the_grammar_is_refused_not_guessed(sql: str) -> None:
    with pytest.raises(NotCompilable):
        compile_condition(sql)


def test_a_model_that_does_not_compile_is_scored_by_splinks_sql(
        trained: tuple[Scorer, list[dict[str, Any]]]) -> None:
    scorer, rows = trained
    settings = copy.deepcopy(scorer.model)
    given = next(c for c in settings["comparisons"] if c["output_column_name"] == "given_name")
    fuzzy = next(lv for lv in given["comparison_levels"] if "jaro_winkler" in lv["sql_condition"])
    fuzzy["sql_condition"] = 'levenshtein("given_fold_l", "given_fold_r") <= 1'
    with pytest.raises(NotCompilable):
        CompiledModel(settings)
    fallback = Scorer(settings, scorer.tf)
    assert fallback.compiled is None
    with pytest.raises(NotCompilable):
        fallback.compare(rows[0], rows[1:3])
    con = duckdb.connect(config={"threads": 1})
    try:
        pairs = fallback.compare_sql(rows[0], rows[:3], con)
    finally:
        con.close()
    assert [p.unique_id_r for p in pairs] == sorted(str(r["unique_id"]) for r in rows[:3])
    assert max(p.match_probability for p in pairs if p.unique_id_r == rows[0]["unique_id"]) > 0.99


def test_the_matcher_needs_no_duckdb_connection_for_a_compiled_model(tmp_path: Path,
        trained: tuple[Scorer, list[dict[str, Any]]]) -> None:
    scorer, rows = trained
    person_of = {str(r["unique_id"]): f"P{i}" for i, r in enumerate(rows)}
    model = TrainedModel(splink=scorer.model, tf=scorer.tf, meta={"version": "v-test"})
    target = next(r for r in rows if r["source"] == "population" and r["birth_date"])

    def candidates(query: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
        found = [r for r in rows if r["given_fold"] == query["given_fold"] and r["birth_year"] == query["birth_year"]]
        return [({**r, "uid": r["unique_id"]}, person_of[str(r["unique_id"])]) for r in found]

    matcher = RealtimeMatcher(model, candidates)
    found = matcher.match({"name_as_written": target["name"], "birth_date": date.fromisoformat(target["birth_date"]),
                           "sex": target["sex"]})
    mine = next(c for c in found if c.person_id == person_of[str(target["unique_id"])])
    assert mine.probability == found[0].probability > 0.5  # the first, or as probable as the first (a duplicate)
    assert mine.weights["given_name"] > 0 and mine.weights["birth"] > 0
    assert matcher._created == 0


def test_the_graph_keeps_and_the_candidate_query_returns_every_column_the_model_reads() -> None:
    """A column missing on the graph's side is NULL there, and a level reading it silently never
    applies in real-time matching (birth_ym and birth_dm_swap once were)."""

    reads = CompiledModel(TrainedModel.read(BASELINE).splink).columns
    assert {"family_fold", "birth_dm_swap", "pid_ok"} <= reads
    root = Path(__file__).resolve().parent.parent
    cypher = (root / "graph" / "cypher" / "matching" / "candidates.cypher").read_text()
    returned = set(re.findall(r"\.(\w+)", cypher[cypher.index("record: r {"):]))
    # The keyed names are not kept: the candidate source derives them from what is.
    assert {"given_key", "middle_key"} <= reads
    stored = (reads - set(NAME_KEYED)) | {"family_fold", "given_fold", "middle_fold", "sex"}
    assert stored <= returned, stored - returned
    assert stored <= set(RECORD_PROPS), stored - set(RECORD_PROPS)


@pytest.mark.parametrize("size", [1, 2, 9, 40])
def test_a_small_batch_is_blocked_and_scored_in_python_as_splink_does(
        trained: tuple[Scorer, list[dict[str, Any]]], size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of up to `SMALL_BATCH` new records skips Splink's linker: the same pairs, in the same order
    and orientation, with the same numbers, as Splink's blocking and scoring give."""
    scorer, rows = trained
    table = pd.DataFrame(rows)
    rng = random.Random(size)
    # Population records, all of which have duplicates in other sources; a few strangers besides.
    population = table.index[table["source"].eq("population")].tolist()
    picked = rng.sample(population, size - size // 3) + rng.sample(range(len(table)), size // 3)
    picked = list(dict.fromkeys(picked))
    new, existing = table.iloc[picked].reset_index(drop=True), table.drop(index=picked).reset_index(drop=True)
    assert scorer._small(existing, new)
    fast = (scorer.within(new, 0.01), scorer.between(existing, new, 0.01))
    monkeypatch.setattr(scoring, "SMALL_BATCH", 0)
    assert not scorer._small(existing, new)
    slow = (scorer.within(new, 0.01), scorer.between(existing, new, 0.01))
    assert not slow[1].empty  # blocking found candidates for the batch, and scoring kept some of them
    for got, want in zip(fast, slow, strict=True):
        assert list(got.columns) == list(want.columns) == scoring.PAIR_COLUMNS
        ids = ["unique_id_l", "unique_id_r"]
        assert got[ids].values.tolist() == want[ids].values.tolist()
        assert got["match_probability"].tolist() == pytest.approx(want["match_probability"].tolist(), abs=1e-12)
        assert got["match_weight"].tolist() == pytest.approx(want["match_weight"].tolist(), abs=1e-9)
        for a, b in zip(got["weights"], want["weights"], strict=True):
            mine, theirs = json.loads(a), json.loads(b)
            assert mine.keys() == theirs.keys()
            assert all(mine[k] == pytest.approx(theirs[k], abs=1.001e-3) for k in mine)


def test_a_shared_house_is_evidence_of_one_person_only_with_the_same_given_name_and_birth_year() -> None:
    """Relatives share the house: only with the given name and the birth year agreeing does it weigh
    much (the shipped model), and two houses of one commune weigh against."""
    model = CompiledModel(TrainedModel.read(BASELINE).splink)
    person = {"given_fold": "an", "middle_fold": "van", "middle_last": "van", "birth_year": 1990,
              "birth_date": "1990-03-05", "commune": "00004", "address_key": "12 5 lang"}
    house = {name: weight for name, weight in [
        ("same person", model.score(person, dict(person))[2]["house"]),
        ("brother", model.score(person, {**person, "given_fold": "binh", "birth_year": 1993,
                                          "birth_date": "1993-07-01"})[2]["house"]),
        ("another house", model.score(person, {**person, "address_key": "40 lang"})[2]["house"]),
        ("another commune", model.score(person, {**person, "commune": "00007"})[2]["house"]),
    ]}
    assert house["same person"] > 8 > 3 > house["brother"] > 0 > house["another house"]
    assert house["another commune"] == house["another house"]


def test_a_full_name_the_model_never_saw_weighs_the_same_in_batch_and_in_real_time(
        trained: tuple[Scorer, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """A new family name: its keys are in no frequency table, and both paths fall back to the given
    and middle names' frequencies within the sex."""
    scorer, rows = trained
    query = next(r for r in rows if r["given_fold"] and r["middle_fold"] and r["sex"] == "female")
    pair = [{**query, "unique_id": uid, "family_fold": "zzfamily",
             **name_keys("female", "zzfamily", query["middle_fold"], query["given_fold"])} for uid in ("u1", "u2")]
    assert pair[0]["given_key"] not in scorer.tf["given_key"]
    within_sex = scorer.tf["given_key"][f"female|{query['given_fold']}"]
    assert scorer.frequency("given_key", pair[0]["given_key"]) == within_sex
    live = scorer.compare(pair[0], [pair[1]])[0]
    monkeypatch.setattr(scoring, "SMALL_BATCH", 0)
    batch = scorer.within(pd.DataFrame(pair), 0.0)
    assert len(batch) == 1
    weights = json.loads(batch["weights"].iloc[0])
    for name in ("middle_name", "given_name"):
        assert weights[name] == pytest.approx(live.weights[name], abs=1.001e-3)
    assert batch["match_weight"].iloc[0] == pytest.approx(live.match_weight, abs=1e-6)
