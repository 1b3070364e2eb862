"""The four outcomes of a new record (linkage.mpi.plan), person ids, and rebuilds — on tiny inline data."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from linkage.mpi import seeded_person_ids, valid_person_id
from linkage.mpi.ids import person_id_check
from linkage.mpi.plan import Reviewed, plan_incremental, plan_rebuild

UPPER, LOWER = 0.95, 0.5


def table(*rows: tuple[str, str | None]) -> pd.DataFrame:
    """Records as (uid, personal id)."""
    return pd.DataFrame([{"unique_id": uid, "personal_id": pid, "pid_ok": pid is not None, "bhxh": None}
                         for uid, pid in rows])


def pairs(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame([{"unique_id_l": a, "unique_id_r": b, "match_probability": p, "match_weight": p * 30,
                          "weights": "{\"given_name\": 5.0}"} for a, b, p in rows],
                        columns=["unique_id_l", "unique_id_r", "match_probability", "match_weight", "weights"])


def ids() -> object:
    counter = iter(range(1000))
    return lambda members: f"NEW{next(counter)}"


EXISTING = table(("e1", "001090000001"), ("e2", None), ("e3", "001090654303"))
ASSIGNED = {"e1": "P1", "e2": "P2", "e3": "P3"}


def states(plan) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(link.uid, link.person_id, link.state) for link in plan.links}


def test_matching_nobody_makes_a_new_person() -> None:
    plan = plan_incremental(table(("n1", None)), EXISTING, pairs(), pairs(), ASSIGNED, UPPER, LOWER,
                            make_id=ids())  # type: ignore[arg-type]
    assert plan.new_persons == ["NEW0"]
    assert states(plan) == {("n1", "NEW0", "MATCH")}


def test_strong_matches_to_one_person_match_it() -> None:
    plan = plan_incremental(table(("n1", "001090000001")), EXISTING, pairs(), pairs(("e1", "n1", 0.99)),
                            ASSIGNED, UPPER, LOWER)
    assert plan.new_persons == []
    assert states(plan) == {("n1", "P1", "MATCH")}
    link = plan.links[0]
    assert link.probability == 0.99 and json.loads(link.weights) == {"given_name": 5.0}


def test_strong_matches_to_several_persons_match_the_strongest_and_need_review() -> None:
    # Every record belongs to a person at all times: the strongest takes it, a reviewer decides the rest.
    plan = plan_incremental(table(("n1", None)), EXISTING, pairs(), pairs(("e1", "n1", 0.95), ("e2", "n1", 0.99)),
                            ASSIGNED, UPPER, LOWER)
    assert plan.new_persons == []
    assert states(plan) == {("n1", "P2", "MATCH"), ("n1", "P1", "POSSIBLE_MATCH")}
    assert [(a, b) for a, b, _, _ in plan.duplicates] == [("P1", "P2")]


def test_a_record_equally_like_two_persons_is_a_person_of_its_own_and_reviewed() -> None:
    """A nameless newborn's record and same-sex twins: either choice would be a guess."""
    plan = plan_incremental(table(("n1", None)), EXISTING, pairs(), pairs(("e1", "n1", 0.99), ("e2", "n1", 0.99)),
                            ASSIGNED, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert plan.new_persons == ["NEW0"] and plan.tied_records == 1
    assert states(plan) == {("n1", "NEW0", "MATCH"), ("n1", "P1", "POSSIBLE_MATCH"), ("n1", "P2", "POSSIBLE_MATCH")}
    # The same records linked all at once: the twins' records are not linked to each other.
    everything = table(("twin1", None), ("twin2", None), ("n1", None))
    strong = pairs(("twin1", "n1", 0.99), ("twin2", "n1", 0.99))
    for first in (plan_incremental(everything, everything.iloc[0:0], strong, pairs(), {}, UPPER, LOWER,
                                   make_id=ids()),  # type: ignore[arg-type]
                  plan_rebuild(everything, strong, {}, UPPER, LOWER, make_id=ids())):  # type: ignore[arg-type]
        person = {link.uid: link.person_id for link in first.links if link.state == "MATCH"}
        assert len(set(person.values())) == 3 and first.tied_records == 1
        assert {(link.uid, link.person_id) for link in first.links if link.state == "POSSIBLE_MATCH"} \
            == {("n1", person["twin1"]), ("n1", person["twin2"])}
    # A record equally like two copies of one person's record is no tie: the copies are linked.
    copies = plan_rebuild(everything, pairs(("twin1", "n1", 0.99), ("twin2", "n1", 0.99), ("twin1", "twin2", 0.99)),
                          {}, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert len({link.person_id for link in copies.links}) == 1 and copies.tied_records == 0


def test_weak_matches_get_a_person_and_a_review_item() -> None:
    plan = plan_incremental(table(("n1", None)), EXISTING, pairs(), pairs(("e2", "n1", 0.7)), ASSIGNED, UPPER,
                            LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(plan) == {("n1", "NEW0", "MATCH"), ("n1", "P2", "POSSIBLE_MATCH")}


def test_a_different_personal_id_is_never_matched_automatically() -> None:
    plan = plan_incremental(table(("n1", "001090777709")), EXISTING, pairs(), pairs(("e1", "n1", 0.999)),
                            ASSIGNED, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert ("n1", "P1", "MATCH") not in states(plan)
    assert ("n1", "P1", "POSSIBLE_MATCH") in states(plan)
    assert plan.refused_conflicts == 1


def test_a_weak_pair_across_a_conflict_opens_no_review_item() -> None:
    """Namesakes and relatives: a reviewer could only link them by overriding the conflict."""
    other_id = plan_incremental(table(("n1", "001090777709")), EXISTING, pairs(), pairs(("e1", "n1", 0.7)),
                                ASSIGNED, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(other_id) == {("n1", "NEW0", "MATCH")}
    assert other_id.withheld_reviews == 1 and other_id.stats()["withheld_conflicting_reviews"] == 1
    # The id is the cluster's: a record without one, strongly tied to a new record that has one.
    clustered = plan_incremental(table(("n1", None), ("n2", "001090777709")), EXISTING, pairs(("n1", "n2", 0.99)),
                                 pairs(("e1", "n1", 0.7)), ASSIGNED, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(clustered) == {("n1", "NEW0", "MATCH"), ("n2", "NEW0", "MATCH")}
    # Two new persons, in one batch.
    both_new = plan_incremental(table(("n1", "001090000001"), ("n2", "001090777709")), EXISTING.iloc[0:0],
                                pairs(("n1", "n2", 0.7)), pairs(), {}, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(both_new) == {("n1", "NEW0", "MATCH"), ("n2", "NEW1", "MATCH")} and both_new.withheld_reviews == 1
    # Birth years a generation apart, between the record and the person's record the pair rests on.
    born = pd.DataFrame([{"unique_id": "n1", "personal_id": None, "pid_ok": False, "bhxh": None, "sex": "female",
                          "birth_year": 1990.0}])
    person = pd.DataFrame([{"unique_id": "e2", "personal_id": None, "pid_ok": False, "bhxh": None, "sex": "female",
                            "birth_year": 1965.0}])
    generation = plan_incremental(born, person, pairs(), pairs(("e2", "n1", 0.7)), {"e2": "P2"}, UPPER, LOWER,
                                  make_id=ids())  # type: ignore[arg-type]
    assert states(generation) == {("n1", "NEW0", "MATCH")} and generation.withheld_reviews == 1
    close = plan_incremental(born, person.assign(birth_year=1991.0), pairs(), pairs(("e2", "n1", 0.7)),
                             {"e2": "P2"}, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(close) == {("n1", "NEW0", "MATCH"), ("n1", "P2", "POSSIBLE_MATCH")}


def dated(*rows: tuple[str, str | None]) -> pd.DataFrame:
    """Records as (uid, full birth date or None for a year only), all born in 1990, female, no ids."""
    return pd.DataFrame([{"unique_id": uid, "personal_id": None, "pid_ok": False, "bhxh": None, "sex": "female",
                          "birth_year": 1990.0, "birth_date": born,
                          "birth_dm_swap": f"1990-{born[8:10]}-{born[5:7]}" if born else None}
                         for uid, born in rows])


def test_a_weak_pair_the_persons_birth_dates_contradict_opens_no_review_item() -> None:
    """A namesake born the same year: the pair rests on the person's record that knows only the year,
    its other records know the day, and it is another day."""
    person = dated(("e1", None), ("e2", "1990-11-10"))
    assigned = {"e1": "P1", "e2": "P1"}
    other_day = plan_incremental(dated(("n1", "1990-10-18")), person, pairs(), pairs(("e1", "n1", 0.8)), assigned,
                                 UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(other_day) == {("n1", "NEW0", "MATCH")}
    assert other_day.stats()["withheld_contradicted_reviews"] == 1 and other_day.withheld_reviews == 0
    # The same day, the day and month transposed, a year only on the new side, or no day on the
    # person's side: a reviewer decides.
    for born, known in (("1990-11-10", "1990-11-10"), ("1990-10-11", "1990-11-10"), (None, "1990-11-10"),
                        ("1990-10-18", None)):
        plan = plan_incremental(dated(("n1", born)), dated(("e1", None), ("e2", known)), pairs(),
                                pairs(("e1", "n1", 0.8)), assigned, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
        assert ("n1", "P1", "POSSIBLE_MATCH") in states(plan), (born, known)
        assert plan.contradicted_reviews == 0
    # Among the persons of one first link, and in a rebuild.
    everyone = dated(("a", "1990-10-18"), ("b", None), ("c", "1990-11-10"))
    first = plan_incremental(everyone, everyone.iloc[0:0], pairs(("a", "b", 0.8), ("b", "c", 0.99)), pairs(), {},
                             UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert [link.state for link in first.links].count("POSSIBLE_MATCH") == 0 and first.contradicted_reviews == 1
    rebuilt = plan_rebuild(everyone, pairs(("a", "b", 0.8), ("b", "c", 0.99)), {}, UPPER, LOWER,
                           make_id=ids())  # type: ignore[arg-type]
    assert [link.state for link in rebuilt.links].count("POSSIBLE_MATCH") == 0 and rebuilt.contradicted_reviews == 1


def test_a_rebuild_opens_no_review_item_across_different_ids() -> None:
    everything = table(("a", "001090000001"), ("b", "001090777709"), ("c", None))
    plan = plan_rebuild(everything, pairs(("a", "b", 0.7), ("a", "c", 0.7)), {}, UPPER, LOWER,
                        make_id=ids())  # type: ignore[arg-type]
    review = {(link.uid, link.partner) for link in plan.links if link.state == "POSSIBLE_MATCH"}
    assert review == {("a", "c")} and plan.withheld_reviews == 1

def test_a_personal_id_one_keystroke_away_is_a_typo_the_model_weighs() -> None:
    swapped = "001090000010"  # e1's last two digits swapped
    plan = plan_incremental(table(("n1", swapped)), EXISTING, pairs(), pairs(("e1", "n1", 0.999)),
                            ASSIGNED, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(plan) == {("n1", "P1", "MATCH")}
    assert plan.refused_conflicts == 0


def test_a_reviewers_no_match_is_respected() -> None:
    plan = plan_incremental(table(("n1", None)), EXISTING, pairs(), pairs(("e1", "n1", 0.99)), ASSIGNED, UPPER,
                            LOWER, Reviewed(no_matches=[("n1", "P1")]), make_id=ids())  # type: ignore[arg-type]
    assert states(plan) == {("n1", "NEW0", "MATCH")}


def test_rebuild_keeps_ids_and_retires_absorbed_persons() -> None:
    everything = table(("a", None), ("b", None), ("c", None))
    assignment = {"a": "P1", "b": "P2", "c": "P2"}
    plan = plan_rebuild(everything, pairs(("a", "b", 0.99), ("b", "c", 0.98)), assignment, UPPER, LOWER,
                        make_id=ids())  # type: ignore[arg-type]
    assert states(plan) == {("a", "P2", "MATCH"), ("b", "P2", "MATCH"), ("c", "P2", "MATCH")}
    assert plan.retired == [("P1", "P2")]


def test_rebuild_keeps_manual_matches_together() -> None:
    everything = table(("a", None), ("b", None))
    reviewed = Reviewed(manual_matches={"a": "P1", "b": "P1"})
    plan = plan_rebuild(everything, pairs(), {"a": "P1", "b": "P1"}, UPPER, LOWER, reviewed)
    assert states(plan) == {("a", "P1", "MATCH"), ("b", "P1", "MATCH")}


def test_person_ids_are_checked_and_reproducible() -> None:
    make = seeded_person_ids("run-1")
    first = make(["b", "a"])
    assert first == make(["a", "c"]) and valid_person_id(first)
    assert seeded_person_ids("run-2")(["a"]) != first
    assert not valid_person_id(first[:-1] + ("0" if first[-1] != "0" else "1"))
    # The form a re-run after a crash relies on: the low 50 bits of the seed's hash as ten base-32
    # digits, lowest first, and the check character.
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for seed, members in (("run-1", ["a"]), ("2026-12-06|b7", ["hospital130|01002:LK2:con1"]), ("x", ["z", "y"])):
        bits = int.from_bytes(hashlib.sha256(f"{seed}|{min(members)}".encode()).digest()[:8], "big")
        body = "".join(crockford[(bits >> shift) & 31] for shift in range(0, 50, 5))
        assert seeded_person_ids(seed)(members) == f"HS{body}{person_id_check(body)}"


def traits_table(*rows: tuple[str, str | None, int | None]) -> pd.DataFrame:
    """Records as (uid, sex, birth year), without ids."""
    return pd.DataFrame([{"unique_id": uid, "personal_id": None, "pid_ok": False, "bhxh": None, "sex": sex,
                          "birth_year": year} for uid, sex, year in rows])


def test_a_chain_through_a_third_record_becomes_a_review_item() -> None:
    """A girl's and a boy's records are each like a nameless newborn's record (no sex): the boy's strong
    link is refused where it would join the two sexes, and a reviewer sees it."""
    twins = traits_table(("girl", "female", 2024), ("newborn", None, 2024), ("boy", "male", 2024))
    strong = pairs(("girl", "newborn", 0.99), ("newborn", "boy", 0.98))
    first = plan_incremental(twins, twins.iloc[0:0], strong, pairs(), {}, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    rebuilt = plan_rebuild(twins, strong, {}, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    for plan in (first, rebuilt):
        person = {link.uid: link.person_id for link in plan.links if link.state == "MATCH"}
        assert person["girl"] == person["newborn"] != person["boy"]
        # One review item on the refused pair, from one side's record to the other side's person.
        assert [({link.uid, link.partner}, {person[link.uid], link.person_id}) for link in plan.links
                 if link.state == "POSSIBLE_MATCH"] == [({"boy", "newborn"}, {person["girl"], person["boy"]})]
        assert plan.refused_chains == 1 and plan.stats()["refused_chained_links"] == 1
    # The boy's record linked to the girl's itself (one child, one mistyped sex): no chain, one person.
    direct = plan_incremental(twins, twins.iloc[0:0], pairs(("girl", "newborn", 0.99), ("newborn", "boy", 0.98),
                                                            ("girl", "boy", 0.97)), pairs(), {}, UPPER, LOWER,
                              make_id=ids())  # type: ignore[arg-type]
    assert {link.person_id for link in direct.links} == {"NEW0"} and direct.refused_chains == 0


def test_the_chain_guard_holds_against_an_existing_person() -> None:
    """The same chain, batch by batch: the girl and the newborn's record are a person already."""
    person = traits_table(("girl", "female", 2024), ("newborn", None, 2024))
    boy = traits_table(("boy", "male", 2024))
    assigned = {"girl": "P1", "newborn": "P1"}
    chained = plan_incremental(boy, person, pairs(), pairs(("newborn", "boy", 0.98), ("girl", "boy", 0.6)),
                               assigned, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(chained) == {("boy", "NEW0", "MATCH"), ("boy", "P1", "POSSIBLE_MATCH")}
    assert chained.refused_chains == 1 and chained.refused_conflicts == 0
    direct = plan_incremental(boy, person, pairs(), pairs(("newborn", "boy", 0.98), ("girl", "boy", 0.97)),
                              assigned, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(direct) == {("boy", "P1", "MATCH")}


def test_a_weak_pair_of_a_record_its_own_person_holds_strongly_opens_no_review_item() -> None:
    """A namesake's weak pair: the record is surely its own person's (a strong pair), so it is at most
    a few percent the other's; the same weak pair of a record alone is reviewed."""
    held = plan_incremental(table(("n1", None)), EXISTING, pairs(),
                            pairs(("e2", "n1", 0.99), ("e3", "n1", 0.8)), ASSIGNED, UPPER, LOWER,
                            make_id=ids())  # type: ignore[arg-type]
    assert states(held) == {("n1", "P2", "MATCH")}
    assert held.stats()["withheld_elsewhere_reviews"] == 1 and held.withheld_reviews == 0
    alone = plan_incremental(table(("n1", None)), EXISTING, pairs(), pairs(("e3", "n1", 0.8)), ASSIGNED, UPPER,
                             LOWER, make_id=ids())  # type: ignore[arg-type]
    assert states(alone) == {("n1", "NEW0", "MATCH"), ("n1", "P3", "POSSIBLE_MATCH")}
    assert alone.elsewhere_reviews == 0
    # Among the persons of one first link (the weak pair from the smaller person's record), and in a rebuild.
    everyone = table(("a", None), ("b", None), ("c", None), ("d", None))
    scored = pairs(("a", "b", 0.99), ("c", "d", 0.99), ("a", "c", 0.8))
    first = plan_incremental(everyone, everyone.iloc[0:0], scored, pairs(), {}, UPPER, LOWER,
                             make_id=ids())  # type: ignore[arg-type]
    rebuilt = plan_rebuild(everyone, scored, {}, UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    for plan in (first, rebuilt):
        assert [link.state for link in plan.links] == ["MATCH"] * 4 and plan.elsewhere_reviews == 1
    lonely = plan_incremental(everyone, everyone.iloc[0:0], pairs(("c", "d", 0.99), ("a", "c", 0.8)), pairs(), {},
                              UPPER, LOWER, make_id=ids())  # type: ignore[arg-type]
    assert [link.state for link in lonely.links].count("POSSIBLE_MATCH") == 1 and lonely.elsewhere_reviews == 0
