"""Constrained clustering: strongest links first, conflicts cut at the weakest link; and the conflicts that
stop a reviewer's hand."""

from __future__ import annotations

import random

import numpy as np

from linkage.mpi import conflicts, conflicts_among
from linkage.mpi.clustering import Records, _greedy, cluster, constrained_clusters


def groups(result) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(m) for m in result.members().values()}


def test_plain_links_form_components() -> None:
    result = constrained_clusters("abcd", [("a", "b", 10.0), ("b", "c", 9.0)])
    assert groups(result) == {frozenset("abc"), frozenset("d")}


def test_a_chain_joining_two_personal_ids_is_cut_at_its_weakest_link() -> None:
    # a and d carry different personal ids; the chain a-b-c-d must break at its weakest edge (c-d).
    edges = [("a", "b", 20.0), ("b", "c", 15.0), ("c", "d", 5.0)]
    keys = {"personal_id": {"a": "001090000001", "d": "001090734512"}}
    result = constrained_clusters("abcd", edges, keys)
    assert groups(result) == {frozenset("abc"), frozenset("d")}
    assert result.refused_conflict == [("c", "d", 5.0)]


def test_ids_one_keystroke_apart_are_a_typo_not_a_wall() -> None:
    edges = [("a", "b", 20.0), ("b", "c", 15.0), ("c", "d", 5.0)]
    substituted = {"personal_id": {"a": "001090000001", "d": "001090000007"}}
    assert groups(constrained_clusters("abcd", edges, substituted)) == {frozenset("abcd")}
    swapped = {"bhxh": {"a": "0123456789", "d": "0123457689"}}
    assert groups(constrained_clusters("abcd", edges, swapped)) == {frozenset("abcd")}
    # Three ids, each near one other but two of them two keystrokes apart: the wall stands.
    keys = {"personal_id": {"a": "001090000001", "b": "001090000002", "d": "001090000012"}}
    result = constrained_clusters("abd", [("a", "b", 9.0), ("b", "d", 8.0)], keys)
    assert groups(result) == {frozenset("ab"), frozenset("d")}


def test_same_id_is_no_conflict() -> None:
    keys = {"personal_id": {"a": "001090000001", "b": "001090000001"}}
    result = constrained_clusters("ab", [("a", "b", 3.0)], keys)
    assert groups(result) == {frozenset("ab")}


def test_reviewer_constraints_win() -> None:
    keys = {"personal_id": {"a": "001090000001", "b": "001090555502"}}
    result = constrained_clusters("abc", [("a", "c", 9.0), ("b", "c", 8.0)], keys,
                                  must_link=[("a", "b")], cannot_link=[("b", "c")])
    assert groups(result) == {frozenset("ab"), frozenset("c")}


def test_size_cap_stops_chaining() -> None:
    ids = [f"r{i}" for i in range(10)]
    edges = [(ids[i], ids[i + 1], 10.0 - i) for i in range(9)]
    result = constrained_clusters(ids, edges, max_size=4)
    assert max(len(m) for m in result.members().values()) == 4
    assert result.refused_size


def test_the_component_fast_path_forms_the_same_clusters_as_the_greedy_pass() -> None:
    rng = random.Random(5)
    ids = [f"r{i}" for i in range(3000)]
    edges = [(rng.choice(ids), rng.choice(ids), rng.uniform(1, 20)) for _ in range(2500)]
    edges = [e for e in edges if e[0] != e[1]]
    keys = {"personal_id": {i: f"pid{rng.randrange(2500)}" for i in ids if rng.random() < 0.5}}
    cannot = [("r1", "r2")]

    def partition(result: object) -> set[frozenset[str]]:
        return {frozenset(m) for m in result.members().values()}  # type: ignore[attr-defined]

    fast = constrained_clusters(ids, edges, keys, cannot_link=cannot, max_size=8)
    slow = _greedy(ids, edges, keys, [], cannot, 8)
    assert partition(fast) == partition(slow)
    assert len(fast.refused_conflict) == len(slow.refused_conflict) > 0
    assert len(fast.refused_size) == len(slow.refused_size) > 0


def test_conflicts_are_what_one_person_cannot_carry() -> None:
    record = {"personal_id": "001090012345", "pid_ok": True, "bhxh": "0123456789", "sex": "male", "birth_year": 1990}
    assert conflicts(record, {**record}) == []
    assert conflicts(record, {**record, "personal_id": "079090054321"}) == ["personal_id"]
    assert conflicts(record, {**record, "personal_id": "001090012354"}) == []  # one keystroke apart: a typo
    assert conflicts(record, {**record, "personal_id": "079090054321", "pid_ok": False}) == []  # failed its checks
    assert conflicts(record, {**record, "bhxh": "9876543210", "sex": "female", "birth_year": 1992}) == [
        "bhxh", "sex", "birth"]
    assert conflicts(record, {**record, "birth_year": 1991}) == []  # a year apart: one digit mistyped
    assert conflicts(record, {"sex": None, "birth_year": None}) == []  # nothing to compare
    person = {"personal_id": "001090012345", "sex": "male", "birth_year": 1990}
    assert conflicts_among(record, [person, {"bhxh": "5555555555"}]) == ["bhxh"]


def test_a_decision_about_a_record_not_clustered_is_ignored() -> None:
    result = constrained_clusters(["a", "b"], [("a", "b", 5.0)], {}, must_link=[("a", "gone")],
                                  cannot_link=[("b", "gone")])
    assert groups(result) == {frozenset({"a", "b"})}


# The chain guard: a (girl, 1990) and c (boy, 1990) are each like b (a nameless newborn's record: no sex).
TWINS = {"a": ("F", 1990), "b": (None, 1990), "c": ("M", 1990)}


def test_a_chain_does_not_join_two_sexes_through_a_third_record() -> None:
    result = constrained_clusters("abc", [("a", "b", 12.0), ("b", "c", 10.0)], traits=TWINS)
    assert groups(result) == {frozenset("ab"), frozenset("c")}
    assert result.refused_chain == [("b", "c", 10.0)]
    assert not result.refused_conflict


def test_a_chain_does_not_join_birth_years_a_generation_apart() -> None:
    # A mother (1965) and her daughter (1990), both like a record without a birth year.
    traits = {"mother": ("F", 1965), "record": ("F", None), "daughter": ("F", 1990)}
    result = constrained_clusters(["mother", "record", "daughter"],
                                  [("daughter", "record", 9.0), ("record", "mother", 11.0)], traits=traits)
    assert groups(result) == {frozenset({"mother", "record"}), frozenset({"daughter"})}


def test_records_that_disagree_are_joined_when_an_edge_joins_them_directly() -> None:
    # One person whose record c has a mistyped sex: the model linked c with a and with b itself.
    edges = [("a", "b", 12.0), ("b", "c", 10.0), ("a", "c", 9.0)]
    assert groups(constrained_clusters("abc", edges, traits=TWINS)) == {frozenset("abc")}
    # A year one apart is a typo, not a disagreement.
    near = {"a": ("F", 1990), "b": ("F", None), "c": ("F", 1991)}
    assert groups(constrained_clusters("abc", edges[:2], traits=near)) == {frozenset("abc")}
    # A reviewer's match is as direct as an edge.
    result = constrained_clusters("abc", [("b", "c", 10.0)], traits=TWINS, must_link=[("a", "c")])
    assert groups(result) == {frozenset("abc")}


def test_the_chain_guard_cuts_where_the_greedy_pass_would() -> None:
    # The easy components and the greedy pass agree with and without traits that disagree nowhere.
    rng = random.Random(3)
    ids = [f"r{i}" for i in range(60)]
    edges = [(rng.choice(ids), rng.choice(ids), rng.uniform(1, 20)) for _ in range(80)]
    edges = [(a, b, w) for a, b, w in edges if a != b]
    same = {i: ("F", 1990) for i in ids}
    assert groups(constrained_clusters(ids, edges, traits=same)) == groups(constrained_clusters(ids, edges))
    # With one record of the other sex, no cluster holding it holds a record it has no edge with.
    odd = {**same, "r0": ("M", 1990)}
    result = constrained_clusters(ids, edges, traits=odd)
    direct = {frozenset((a, b)) for a, b, _ in edges}
    for members in result.members().values():
        if "r0" in members:
            assert all(frozenset(("r0", other)) in direct for other in members if other != "r0")


def test_a_record_equally_like_two_records_no_edge_joins_is_left_alone() -> None:
    result = constrained_clusters("abn", [("a", "n", 12.0), ("b", "n", 12.0)])
    assert groups(result) == {frozenset("a"), frozenset("b"), frozenset("n")}
    assert result.refused_tie == [("n", "a", 12.0), ("n", "b", 12.0)]
    # Stronger on one side, if only by a field: no tie (and two strong links are links).
    assert groups(constrained_clusters("abn", [("a", "n", 12.0), ("b", "n", 11.5)])) == {frozenset("abn")}
    # Both partners one person's records, joined through a third: no tie either.
    joined = constrained_clusters("abcn", [("a", "n", 12.0), ("b", "n", 12.0), ("a", "c", 20.0), ("c", "b", 20.0)])
    assert groups(joined) == {frozenset("abcn")} and not joined.refused_tie


def test_records_as_columns_cluster_as_the_same_records_as_mappings() -> None:
    # A first link passes the table's columns (`cluster`): missing values are NaN, None or empty text.
    ids = ["a", "b", "c", "d", "e"]
    edges = [("a", "b", 20.0), ("b", "c", 15.0), ("c", "e", 12.0), ("c", "d", 5.0)]
    keys = {"personal_id": {"a": "001090000001", "d": "001090734512"}}
    traits = {"a": ("F", 1990), "b": ("F", None), "c": ("F", 1990), "e": ("M", 1990)}
    columns = Records(ids, {"personal_id": np.array(["001090000001", np.nan, "", "001090734512", None], dtype=object)},
                      np.array(["F", "F", "F", "", "M"], dtype=object), np.array([1990, np.nan, 1990, np.nan, 1990.0]))
    by_columns = cluster(columns, columns.positions(a for a, _, _ in edges), columns.positions(b for _, b, _ in edges),
                         np.array([w for _, _, w in edges]))
    by_mappings = constrained_clusters(ids, edges, keys, traits=traits)
    assert groups(by_columns) == groups(by_mappings) == {frozenset("abc"), frozenset("d"), frozenset("e")}
    assert by_columns.refused_conflict == by_mappings.refused_conflict == [("c", "d", 5.0)]
    assert by_columns.refused_chain == by_mappings.refused_chain == [("c", "e", 12.0)]
    # The clusters of some records only, each listed in the order of the records.
    among = np.array([True, False, True, True, False])
    assert by_columns.members(among) == {"a": ["a", "c"], "d": ["d"]}
