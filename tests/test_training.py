"""Training on populations unlike HoSo's own: no ids at all, one source alone, reviewers' labels."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from bench.sequence import MemoryLinkStore
from linkage import ModelError, pipeline
from linkage.evaluation import pairwise_scores, read_truth
from linkage.intake import ingest, synthetic_inputs
from linkage.matching import ModelStore, Scorer, train
from linkage.mpi.plan import plan_rebuild
from linkage.standardize import place_newborns
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind


def world(root: Path, profile: str, persons: int = 1500) -> tuple[pd.DataFrame, dict[str, str]]:
    generate(SynthConfig(persons=persons, seed=4, profile=profile), root / "synth")
    for kind, files, mapping in synthetic_inputs(root / "synth"):
        ingest(kind, files, root / "data", mapping=mapping)
    table = pipeline.load_tables(root / "data", pipeline.all_batch_ids(root / "data"))
    return place_newborns(table, table), read_truth(root / "synth" / "truth.csv")


def f1(table: pd.DataFrame, model_splink: dict, tf: dict, truth: dict[str, str]) -> float:  # type: ignore[type-arg]
    pairs = Scorer(model_splink, tf).within(table, 0.5)
    plan = plan_rebuild(table, pairs, {}, 0.95, 0.5)
    assigned = {link.uid: link.person_id for link in plan.links if link.state == "MATCH"}
    named = {uid for uid, placeholder in zip(table["unique_id"], table["placeholder_name"], strict=True)
             if not placeholder}  # newborns under their mother's name have no name to link by without ids
    return pairwise_scores({u: assigned[u] for u in named}, {u: t for u, t in truth.items() if u in named}).f1


@pytest.fixture(scope="module")
def no_ids(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict[str, str]]:
    return world(tmp_path_factory.mktemp("no-ids"), "no-ids")


def test_a_population_without_any_id_trains_on_itself_alone(no_ids: tuple[pd.DataFrame, dict[str, str]],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    table, truth = no_ids
    assert table["personal_id"].isna().all() and table["cmnd"].isna().all()
    with caplog.at_level(logging.WARNING):
        model = train(table, use_baseline=False)
    assert "from_baseline" not in model.meta
    assert model.splink["probability_two_random_records_match"] > 0
    by_name = {c["output_column_name"]: c for c in model.splink["comparisons"]}
    for name in ("family_name", "given_name", "birth"):  # trained here, and telling
        top = next(lv for lv in by_name[name]["comparison_levels"] if not lv.get("is_null_level"))
        assert top["m_probability"] / top["u_probability"] > 4, name
    personal = [lv for lv in by_name["personal_id"]["comparison_levels"] if not lv.get("is_null_level")]
    assert all(lv["m_probability"] == lv["u_probability"] for lv in personal)  # no data: no weight
    assert "carry no" in caplog.text and "personal_id" in caplog.text
    assert sum("Splink" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING) == 0
    assert f1(table, model.splink, model.tf, truth) >= 0.98


def test_records_with_no_surely_matching_pair_cannot_train_alone(no_ids: tuple[pd.DataFrame, dict[str, str]]) -> None:
    table, _ = no_ids
    one_each = table.drop_duplicates("family_fold").head(200).reset_index(drop=True)
    with pytest.raises(ModelError, match="no pair that is almost surely one person"):
        train(one_each, use_baseline=False)
    model = train(one_each)  # with the baseline: its prior and m values, no EM on non-matches
    assert "prior" in model.meta["from_baseline"]


def _house_differs_among_sure_pairs(table: pd.DataFrame) -> float:
    """The share, computed here in pandas, of pairs surely one person (the whole name and birth date, and
    the same phone or one side without a commune or phone: the rules that leave the address free) whose
    records both carry a house and are not in the same house of one place."""
    name = ["family_fold", "middle_fold", "given_fold", "birth_date"]
    records = table[["unique_id", *name, "phone", "commune", "address_key"]].dropna(subset=name)
    pairs = records.merge(records, on=name, suffixes=("_l", "_r"))
    pairs = pairs[pairs["unique_id_l"] < pairs["unique_id_r"]]
    no_place = ((pairs["commune_l"].isna() | pairs["commune_r"].isna())
                & (pairs["phone_l"].isna() | pairs["phone_r"].isna()))
    sure = pairs[(pairs["phone_l"] == pairs["phone_r"]) | no_place]
    carried = sure[sure["address_key_l"].notna() & sure["address_key_r"].notna()]
    same_place = (carried["commune_l"].isna() | carried["commune_r"].isna()
                  | (carried["commune_l"] == carried["commune_r"]))
    same_house = same_place & (carried["address_key_l"] == carried["address_key_r"])
    return float((~same_house).mean())


def test_how_often_a_persons_records_differ_in_house_is_learnt_from_the_pairs_surely_one_person(
        no_ids: tuple[pd.DataFrame, dict[str, str]]) -> None:
    """No EM block without ids can train the house (every block fixes a name or the birth date its "same
    person" level reads): the m of "another house" comes from the sure pairs, not from a guess."""
    table, _ = no_ids
    moved = table.copy()
    some = moved.sample(frac=0.2, random_state=3).index
    moved.loc[some, "address_key"] = [f"moved {i}" for i in range(len(some))]
    for population in (table, moved):
        model = train(population)
        house = next(c for c in model.splink["comparisons"] if c["output_column_name"] == "house")
        expected = _house_differs_among_sure_pairs(population)
        assert model.meta["from_sure_pairs"]["house"] == pytest.approx(expected)
        assert house["comparison_levels"][-1]["m_probability"] == pytest.approx(max(expected, 1e-3))
    assert model.meta["from_sure_pairs"]["house"] > 0.1  # a fifth of the records moved: it is learnt, not fixed
    # Pairs found by an equal phone say nothing of how often phones differ: the phone's share leaves them out.
    assert "phone" in model.meta["from_sure_pairs"]


def test_reviewers_pairs_teach_the_m_values(tmp_path: Path) -> None:
    table, truth = world(tmp_path, "realistic", persons=800)
    by_person: dict[str, list[str]] = {}
    for uid in table["unique_id"]:
        if uid in truth:
            by_person.setdefault(truth[uid], []).append(uid)
    pairs = [(members[0], members[1]) for members in by_person.values() if len(members) > 1][:40]
    model = train(table, labelled_matches=pairs)
    assert model.meta["reviewed_pairs"] == 40
    assert train(table, labelled_matches=pairs[:3]).meta.get("reviewed_pairs") is None  # too few to use


def test_linking_retrains_when_a_new_kind_arrives_the_records_double_or_the_model_is_from_an_older_version(
        tmp_path: Path) -> None:
    generate(SynthConfig(persons=700, seed=6, profile="realistic"), tmp_path / "synth")
    inputs = {kind: (files, mapping) for kind, files, mapping in synthetic_inputs(tmp_path / "synth")}
    data, store = tmp_path / "data", MemoryLinkStore()
    ingest(SourceKind.POPULATION, inputs[SourceKind.POPULATION][0], data, mapping=inputs[SourceKind.POPULATION][1])
    first = pipeline.link(data, store, 0.95, 0.5)
    assert first.retrained is None and ModelStore(data).current().meta["sources"] == ["population"]
    ingest(SourceKind.COMMUNE831, inputs[SourceKind.COMMUNE831][0], data, mapping=inputs[SourceKind.COMMUNE831][1])
    second = pipeline.link(data, store, 0.95, 0.5)
    assert second.retrained == "a source kind the model has not seen: commune831" and second.kind == "relink"
    assert not set(store.batches) ^ set(pipeline.all_batch_ids(data))  # the new batch is linked too
    assert all(uid in store.match for uid in pipeline.load_tables(data, pipeline.all_batch_ids(data))["unique_id"])
    models = ModelStore(data)
    old = models.current()
    older = json.loads(json.dumps(old.splink))
    older["comparisons"][0]["comparison_levels"].pop(-2)  # as saved by a HoSo whose model had one level fewer
    models.save(replace(old, splink=older))
    # A new kind as well: the model that no longer fits is the reason named first.
    ingest(SourceKind.IMMUNIZATION, inputs[SourceKind.IMMUNIZATION][0], data)
    third = pipeline.link(data, store, 0.95, 0.5)
    assert third.retrained == "the model was trained by an earlier version of HoSo, with other comparisons"
    everything = pipeline.load_tables(data, pipeline.all_batch_ids(data))
    # A citizen's first self-report is a kind the model has not seen, and one record of it: linked, not retrained.
    registry = everything[(everything["source"] == "population") & everything["birth_date"].notna()
                          & everything["personal_id"].notna() & everything["pid_ok"].eq(True)]
    person = registry.iloc[0]
    report = {"record_id": "self-report-1", "source_system": "hoso-portal", "name_as_written": person["name"],
              "birth_date": str(person["birth_date"]), "birth_precision": "day", "sex": person["sex"],
              "identifiers": [{"kind": "personal_id", "value": person["personal_id"]}],
              "recorded_at": "2026-12-06T08:00:00+00:00",
              "conditions": [{"category": "risk_factor", "code": "smoking", "text": "self-reported",
                              "recorded_on": "2026-12-06"}]}
    (tmp_path / "self-report.jsonl").write_text(json.dumps(report, ensure_ascii=False) + "\n", encoding="utf-8")
    version = ModelStore(data).current().version
    ingest(SourceKind.CITIZEN, [tmp_path / "self-report.jsonl"], data)
    fourth = pipeline.link(data, store, 0.95, 0.5)
    assert fourth.retrained is None and fourth.kind == "link" and ModelStore(data).current().version == version
    assert store.match[f"citizen|{report['record_id']}"] == store.match[str(person["unique_id"])]
    counts = everything["source"].value_counts().to_dict()
    assert pipeline.retrain_reason(ModelStore(data).current(), len(everything), counts) is None
    # A new kind with a trickle of records (a citizen's first self-report) waits until it holds 1 %.
    assert pipeline.retrain_reason(ModelStore(data).current(), len(everything) + 1, {**counts, "citizen": 1}) is None
    share = int(len(everything) * pipeline.RETRAIN_NEW_KIND_SHARE) + 1
    assert pipeline.retrain_reason(ModelStore(data).current(), len(everything) + share, {**counts, "citizen": share}) \
        == "a source kind the model has not seen: citizen"
