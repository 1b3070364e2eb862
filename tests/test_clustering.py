"""Constrained clustering: strongest links first, conflicts cut at the weakest link; and the conflicts that
stop a reviewer's hand."""

from __future__ import annotations

import random

from linkage.mpi import conflicts, conflicts_among
from linkage.mpi.clustering import _greedy, constrained_clusters


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
