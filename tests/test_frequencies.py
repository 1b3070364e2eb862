"""Names weighed by their frequency among the people who share the sex and the names before them; birth
dates by their frequency; the prior by the population scored among."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from linkage.matching import BASELINE, TrainedModel, model_fits, scoring
from linkage.matching.scoring import Scorer, keyed_frequencies, term_frequencies
from linkage.pipeline import retrain_reason
from linkage.standardize import LINKAGE_COLUMNS


def people(*groups: tuple[int, str, str, str, str, int]) -> pd.DataFrame:
    """Records as (how many people, sex, family, middle, given, records each), each person born another year."""
    rows = [(sex, family, middle, given, 1950 + n) for count, sex, family, middle, given, records in groups
            for n in range(count) for _ in range(records)]
    return pd.DataFrame(rows, columns=["sex", "family_fold", "middle_fold", "given_fold", "birth_year"])


def test_a_given_name_common_in_one_family_weighs_less_there_and_a_lone_person_counts_no_one() -> None:
    table = people((40, "female", "nguyen", "thi", "lan", 1), (50, "female", "nguyen", "thi", "hoa", 1),
                   (10, "female", "tran", "thi", "lan", 1), (1, "female", "ton", "that", "lan", 3),
                   (1, "female", "ton", "that", "mai", 1), (1, "male", "ton", "that", "hung", 1))
    given = keyed_frequencies(table)["given_key"]
    within_sex = given["female|lan"]
    assert within_sex == 53 / 104  # records: 40 + 10 + 3 Lan among the 104 women's
    # Every Trần Thị is a Lan: another Trần Thị Lan is less telling than another woman called Lan.
    assert given["female|tran|thi|lan"] > within_sex + 0.2
    # The one Tôn Thất Lan (three records) is not the evidence that Lan is common among the Tôn Thất:
    # her own records are left out, and a group of two people leans on the whole sex.
    assert abs(given["female|ton|that|lan"] - within_sex) < 0.06
    middle = keyed_frequencies(table)["middle_key"]
    assert middle["female|ton|that"] < 0.1 < 0.9 < middle["female|nguyen|thi"]
    assert term_frequencies(table)["given_fold"]["lan"] == 53 / 105


def test_a_name_never_seen_falls_back_to_its_frequency_within_the_sex() -> None:
    table = people((30, "female", "nguyen", "thi", "lan", 1), (30, "male", "nguyen", "van", "lan", 1),
                   (40, "female", "le", "thi", "hoa", 1))
    model = TrainedModel.read(BASELINE)
    scorer = Scorer(model.splink, term_frequencies(table))
    assert scorer.frequency("given_key", "female|pham|ngoc|lan") == 30 / 70
    assert scorer.frequency("given_key", "|pham|ngoc|lan") == 60 / 100
    rarest = min(scorer.tf["given_key"].values())
    assert scorer.frequency("given_key", "female|pham|ngoc|xyz") == rarest


def test_a_model_saved_before_the_names_were_keyed_scores_as_before_and_is_retrained() -> None:
    """Its levels read the names keyed by sex alone ("female|lan") and it knows their frequencies."""
    saved = copy.deepcopy(TrainedModel.read(BASELINE).splink)
    for comparison in saved["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("tf_adjustment_column") in ("given_key", "middle_key"):
                level["tf_adjustment_column"] = level["tf_adjustment_column"].replace("_key", "_sex")
    assert not model_fits(saved)
    scorer = Scorer(saved, {"given_sex": {"female|lan": 0.05}, "middle_sex": {"female|thi": 0.4}})
    assert scorer.frequency("given_key", "female|nguyen|thi|lan") == 0.05
    record = {"unique_id": "a", "family_fold": "nguyen", "middle_fold": "thi", "middle_last": "thi",
              "given_fold": "lan", "sex": "female", "given_key": "female|nguyen|thi|lan",
              "middle_key": "female|nguyen|thi", "birth_year": 1990}
    pair = scorer.compare(record, [{**record, "unique_id": "b"}])[0]
    assert pair.weights["given_name"] > 0
    old = TrainedModel(splink=saved, tf={}, meta={"records": 100, "sources": ["population"]})
    assert "earlier version" in (retrain_reason(old, 100, {"population": 100}) or "")


def test_a_name_no_one_else_bears_weighs_no_more_than_a_name_one_record_bears() -> None:
    """Two shrinkages towards a frequency of one in the sex, in a large group, would otherwise give a
    unique name a frequency of almost nothing and a weight without bound."""
    table = people((3000, "female", "nguyen", "thi", "lan", 1), (1, "female", "nguyen", "thi", "xuyen", 1))
    given = keyed_frequencies(table)["given_key"]
    rarest = min(v for k, v in given.items() if k.count("|") == 1)
    assert rarest == 1 / 3001
    assert given["female|nguyen|thi|xuyen"] == rarest == min(given.values())


def dated(*groups: tuple[int, str]) -> pd.DataFrame:
    """Records as (how many people, birth date), each person with a name of their own."""
    rows = [("female", "nguyen", "thi", f"p{n}-{date}", date) for count, date in groups for n in range(count)]
    table = pd.DataFrame(rows, columns=["sex", "family_fold", "middle_fold", "given_fold", "birth_date"])
    return table.assign(birth_year=table["birth_date"].str[:4].astype(int))


def test_a_heaped_birth_date_weighs_less_than_a_rare_one_and_an_unseen_date_takes_its_years_rare_day(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1st of January, written where the day was never known, is shared by many strangers."""
    table = dated((300, "1960-01-01"), *((1, f"1960-{m:02d}-{d:02d}") for m in range(2, 13) for d in range(1, 29)),
                  *((2, f"1990-{m:02d}-{d:02d}") for m in range(1, 13) for d in range(1, 29)))
    dates = term_frequencies(table)["birth_date"]
    assert dates["1960-01-01"] > 10 * dates["1960-05-17"]
    # A day of 1990 no one bears is rarer than one two people bear, but not by far: a year leans on its average day.
    assert dates["1990"] < dates["1990-05-17"] < 2 * dates["1990"]
    scorer = Scorer(TrainedModel.read(BASELINE).splink, term_frequencies(table))
    assert scorer.frequency("birth_date", "1990-12-30") == dates["1990"]
    assert scorer.frequency("birth_date", "1930-12-30") == min(dates.values())  # a year never seen: rare
    record = {**dict.fromkeys(LINKAGE_COLUMNS), "unique_id": "a", "family_fold": "nguyen", "middle_fold": "thi",
              "given_fold": "lan", "sex": "female"}
    heaped = {**record, "birth_date": "1960-01-01", "birth_year": 1960}
    rare = {**record, "birth_date": "1960-05-17", "birth_year": 1960}
    on_heap = scorer.compare(heaped, [{**heaped, "unique_id": "b"}])[0].weights["birth"]
    on_rare = scorer.compare(rare, [{**rare, "unique_id": "b"}])[0].weights["birth"]
    assert on_rare - on_heap > 3  # log2 of the ratio of the two frequencies: more than ten times
    # Splink's SQL gives the same weights as the compiled model.
    monkeypatch.setattr(scoring, "SMALL_BATCH", 0)
    pairs = scorer.within(pd.DataFrame([heaped, {**heaped, "unique_id": "b"}, {**rare, "unique_id": "c"},
                                        {**rare, "unique_id": "d"}]), 0.0)
    weights = {(a, b): json.loads(w)["birth"]
               for a, b, w in pairs[["unique_id_l", "unique_id_r", "weights"]].itertuples(index=False)}
    assert abs(weights[("a", "b")] - on_heap) < 1e-6 and abs(weights[("c", "d")] - on_rare) < 1e-6


def test_the_prior_follows_the_population_the_records_are_scored_among() -> None:
    """Among twice the records a model was trained on, two random records are one person half as often:
    the same pair weighs one bit less (until the model is retrained); a smaller population keeps it."""
    model = TrainedModel.read(BASELINE)
    model = TrainedModel(splink=model.splink, tf=model.tf, meta={"records": 1000})
    prior = model.splink["probability_two_random_records_match"]
    assert model.among(2000)["probability_two_random_records_match"] == prior / 2
    assert model.among(500) is model.splink and model.among(None) is model.splink
    record = {"unique_id": "a", "family_fold": "nguyen", "middle_fold": "thi", "given_fold": "lan", "sex": "female",
              "birth_date": "1990-05-17", "birth_year": 1990}
    weight = {population: Scorer(model.among(population), {}).compare(record, [{**record, "unique_id": "b"}])[0]
              for population in (1000, 4000)}
    assert abs(weight[1000].match_weight - weight[4000].match_weight - 2.0) < 1e-3  # odds, not probability
    assert weight[4000].match_probability < weight[1000].match_probability
