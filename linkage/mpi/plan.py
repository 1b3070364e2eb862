"""From scored pairs to persons and links, following a master person index's rules.

A new record (or a cluster of new records that are strongly linked to each other):
1. matches nobody: a new person;
2. strongly matches records of one person: MATCH to that person;
3. strongly matches records of several persons: MATCH to the one it matches most strongly (every
   record belongs to a person at all times), POSSIBLE_MATCH to the others, POSSIBLE_DUPLICATE between
   them; equally strongly two of them (a nameless newborn's record and twins): a new person, and
   POSSIBLE_MATCH to each;
4. only weakly matches: a person of its own, and POSSIBLE_MATCH to the persons it weakly matches.

Strong links whose union would hold two different valid personal ids (not one keystroke apart) are refused (see
`linkage.mpi.clustering`), and so are links a reviewer ruled out. So is a strong link that would join, through
a third record, two records that disagree on sex or birth year and are not strongly linked themselves (the
chain guard); such a link becomes a review item instead, and so does a record's strong link to an existing
person one of whose records it so disagrees with. Person ids never change because new
data arrived; a full rebuild (`plan_rebuild`) keeps every id whose person still exists.

A weak pair across a conflict (`linkage.mpi.conflicts`: two different valid personal ids or insurance
numbers held by the two persons, different sexes, or birth years a generation apart) opens no review
item: such pairs are namesakes and relatives, which a reviewer could only link by overriding the
conflict, and on every generator profile none of them was one person. A strong pair the id wall
refused still opens one, so that a reviewer sees what the model wanted and the wall stopped. Nor does a
weak pair open one when the record has a full birth date and the person's records hold full birth dates,
none of them the record's (nor its day and month transposed): the pair was scored against the record
that knows only the year, and the person was born another day. Nor does a weak pair open one when the
record's own person holds it through a strong pair (`_held_elsewhere`): the record is then surely that
person's, and the weak pair a namesake's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise, repeat
from typing import NamedTuple

import numpy as np
import pandas as pd

from linkage.collector import collector_paused
from linkage.mpi.clustering import TIE_MARGIN, ClusterResult, Records, Traits, cluster, disagree
from linkage.mpi.conflicts import conflicts
from linkage.mpi.ids import IdFactory, new_person_id
from linkage.standardize import compatible_ids

NO_WEIGHTS = "{}"  # a link with no scored pair behind it (a record alone, a reviewer's decision)


class Link(NamedTuple):
    """One record's link to a person (a tuple: a run makes one per record)."""

    uid: str
    person_id: str
    state: str  # MATCH | POSSIBLE_MATCH
    probability: float
    match_weight: float | None
    weights: str  # JSON object: comparison -> match weight
    partner: str | None = None  # the person's record whose pair with `uid` gave these numbers


@dataclass
class LinkPlan:
    """What a linking run decided: persons to create, links, possible duplicates, retired ids."""

    new_persons: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    duplicates: list[tuple[str, str, float, str]] = field(default_factory=list)
    retired: list[tuple[str, str]] = field(default_factory=list)  # (retired id, surviving id)
    refused_conflicts: int = 0
    refused_chains: int = 0  # strong links the chain guard turned into review items
    tied_records: int = 0  # records equally like two persons, left a person of their own and reviewed
    withheld_reviews: int = 0  # weak pairs across a conflict: no review item
    contradicted_reviews: int = 0  # weak pairs whose full birth date none of the person's records holds
    elsewhere_reviews: int = 0  # weak pairs of a record its own person holds more surely: no review item

    def stats(self) -> dict[str, int]:
        states = Counter(link.state for link in self.links)
        return {"new_persons": len(self.new_persons), "match_links": states.get("MATCH", 0),
                "possible_match_links": states.get("POSSIBLE_MATCH", 0), "possible_duplicates": len(self.duplicates),
                "retired_persons": len(self.retired), "refused_conflicting_links": self.refused_conflicts,
                "refused_chained_links": self.refused_chains, "tied_records": self.tied_records,
                "withheld_conflicting_reviews": self.withheld_reviews,
                "withheld_contradicted_reviews": self.contradicted_reviews,
                "withheld_elsewhere_reviews": self.elsewhere_reviews}


@dataclass(frozen=True)
class Reviewed:
    """Reviewers' decisions the model must respect."""

    manual_matches: Mapping[str, str] = field(default_factory=dict)  # uid -> person (MANUAL MATCH)
    no_matches: Iterable[tuple[str, str]] = ()  # (uid, person) pairs ruled out
    not_duplicates: Iterable[tuple[str, str]] = ()  # person pairs ruled out


def _keys(table: pd.DataFrame) -> dict[str, dict[str, str]]:
    uids = table["unique_id"].tolist()
    valid_pid = table["personal_id"].where(table["pid_ok"].eq(True)).tolist()
    return {"personal_id": {u: v for u, v in zip(uids, valid_pid, strict=True) if isinstance(v, str)},
            "bhxh": {u: v for u, v in zip(uids, table["bhxh"].tolist(), strict=True) if isinstance(v, str)}}


def _traits(table: pd.DataFrame) -> dict[str, Traits]:
    """Each record's sex and birth year, for the chain guard."""
    if "sex" in table.columns:
        sex = table["sex"].astype(object)
        sexes = sex.where(sex.notna() & (sex != ""), None).tolist()
    else:
        sexes = [None] * len(table)
    if "birth_year" in table.columns:
        year = pd.to_numeric(table["birth_year"], errors="coerce").astype("Int64").astype(object)
        years = year.where(year.notna(), None).tolist()
    else:
        years = [None] * len(table)
    return dict(zip(table["unique_id"].tolist(), zip(sexes, years, strict=True), strict=True))


def _records(table: pd.DataFrame) -> Records:
    """The table's records as the clustering reads them (`_keys` and `_traits` as columns)."""
    keys = {"personal_id": table["personal_id"].where(table["pid_ok"].eq(True)).to_numpy(dtype=object),
            "bhxh": table["bhxh"].to_numpy(dtype=object)}
    sex = table["sex"].to_numpy(dtype=object) if "sex" in table.columns else None
    year = (pd.to_numeric(table["birth_year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if "birth_year" in table.columns else None)
    return Records(table["unique_id"].tolist(), keys, sex, year)


def _and_chained(weak: pd.DataFrame, strong: pd.DataFrame, refused: list[tuple[str, str, float]]) -> pd.DataFrame:
    """The weak pairs and the strong ones the chain guard refused: those are reviewed like weak pairs."""
    if not refused:
        return weak
    forward = {(a, b) for a, b, _ in refused}
    backward = {(b, a) for a, b, _ in refused} - forward
    ends = {x for a, b, _ in refused for x in (a, b)}
    strong = strong[strong["unique_id_l"].isin(ends) & strong["unique_id_r"].isin(ends)]
    pairs = list(zip(strong["unique_id_l"].tolist(), strong["unique_id_r"].tolist(), strict=True))
    chained = strong.loc[np.fromiter((p in forward or p in backward for p in pairs), dtype=bool, count=len(pairs))]
    # Each as refused: the record whose link was refused on the left, where a review item starts.
    flip = np.fromiter(((a, b) in backward for a, b in zip(chained["unique_id_l"].tolist(),
                                                           chained["unique_id_r"].tolist(), strict=True)),
                       dtype=bool, count=len(chained))
    chained = chained.copy()
    chained.loc[flip, ["unique_id_l", "unique_id_r"]] = chained.loc[flip, ["unique_id_r", "unique_id_l"]].to_numpy()
    return pd.concat([weak, chained], ignore_index=True)


class _Sides:
    """The fields `conflicts` reads of each record of some tables, looked up when asked (a first link
    holds millions of records and asks about a few)."""

    FIELDS = ("personal_id", "pid_ok", "bhxh", "sex", "birth_year", "birth_date", "birth_dm_swap")

    def __init__(self, *tables: pd.DataFrame) -> None:
        self._where: dict[str, tuple[int, int]] = {}
        self._columns: list[dict[str, list[object]]] = []
        for n, frame in enumerate(tables):
            self._columns.append({f: frame[f].tolist() if f in frame.columns else [None] * len(frame)
                                  for f in self.FIELDS})
            self._where.update((uid, (n, row)) for row, uid in enumerate(frame["unique_id"].tolist()))

    def __call__(self, uid: str) -> dict[str, object]:
        where = self._where.get(uid)
        if where is None:
            return {}
        columns, row = self._columns[where[0]], where[1]
        side = {f: _plain(columns[f][row]) for f in self.FIELDS}
        if isinstance(side["birth_year"], float):
            side["birth_year"] = int(side["birth_year"])
        return side

    def conflict(self, uid: str, partner: str | None) -> bool:
        return partner is not None and bool(conflicts(self(uid), self(partner)))

    def contradicted(self, uid: str, records: Iterable[str]) -> bool:
        """Whether the person's records hold full birth dates and none is `uid`'s (or its day and month
        transposed), while `uid` has a full one: the person was born another day.

        A weak pair is scored against one of the person's records, often the one that knows only the
        year; the others, which know the day, say no. Among namesakes that was most review items on
        the profile without ids, and none was one person: a review item is a question about the
        person, not about one of its records."""
        mine = self(uid)
        born = mine.get("birth_date")
        if not isinstance(born, str):
            return False
        dates = [side for side in map(self, records) if isinstance(side.get("birth_date"), str)]
        return bool(dates) and not any(side["birth_date"] == born or side.get("birth_dm_swap") == born
                                       for side in dates)


def _plain(value: object) -> object:
    """None for pandas' missing values (NaN, NA), the value as a Python value otherwise (numpy's
    `False` is not `False`)."""
    if isinstance(value, np.generic):
        value = value.item()
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value


def _ids_compatible(keys: Mapping[str, set[str]], others: Mapping[str, set[str]]) -> bool:
    """Whether one person may hold both sets of valid personal ids and insurance numbers."""
    return all(compatible_ids(set(keys.get(k, ())) | set(others.get(k, ()))) for k in ("personal_id", "bhxh"))


def _best_edges(pairs: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float, str]]:
    best: dict[tuple[str, str], tuple[float, float, str]] = {}
    for a, b, p, w, weights in zip(pairs["unique_id_l"].tolist(), pairs["unique_id_r"].tolist(),
                                   pairs["match_probability"].tolist(), pairs["match_weight"].tolist(),
                                   pairs["weights"].tolist(), strict=True):
        for key in ((a, b), (b, a)):
            edge = (float(p), float(w), weights)
            if key not in best or _strength(edge) > _strength(best[key]):
                best[key] = edge
    return best


def _strength(edge: tuple[float, float | None, str]) -> tuple[float, float]:
    """How strong a scored pair is: its probability, then (as strong pairs all round to 1) its weight."""
    return edge[0], edge[1] if edge[1] is not None else float("-inf")


def _link(best: Mapping[tuple[str, str], tuple[float, float, str]], uid: str, person: str, state: str,
          partners: Iterable[str]) -> Link:
    """`uid`'s link to `person` through its strongest scored pair with one of `partners` (the first of
    equals); a record with no such pair is linked alone, with no weights and no partner."""
    edges = [(best[(uid, other)], other) for other in partners if (uid, other) in best]
    if not edges:
        return Link(uid, person, state, 1.0, None, NO_WEIGHTS)
    (p, w, weights), partner = max(edges, key=lambda edge: _strength(edge[0]))
    return Link(uid, person, state, p, w, weights, partner)


def _held_elsewhere(best: Mapping[tuple[str, str], tuple[float, float, str]], uid: str, probability: float,
                    own: Iterable[str], upper: float) -> bool:
    """Whether `uid`'s pair with another person, of `probability`, is weak while its own person (its
    other records `own`) holds it through a strong pair.

    A record belongs to one person at most: against its own person with odds o and another with odds
    a, the chance it is the other's is a / (1 + a + o). Held at p >= 0.95 (o >= 19), a weak pair
    (a < 19) leaves it under one half, and most often far under: the weak pair is a namesake's (at
    300,000 persons without ids, 48 of the queue's 160 items, none one person). A strong pair a wall
    or the chain guard refused is still reviewed: the record is then like two persons alike.
    """
    if probability >= upper:
        return False
    return any(best[(uid, other)][0] >= upper for other in own if other != uid and (uid, other) in best)


def _touching(pairs: pd.DataFrame, uids: set[str]) -> pd.DataFrame:
    """The pairs with at least one record in `uids`."""
    ends = zip(pairs["unique_id_l"].tolist(), pairs["unique_id_r"].tolist(), strict=True)
    return pairs.loc[np.fromiter((a in uids or b in uids for a, b in ends), dtype=bool, count=len(pairs))]


def _best_within_clusters(root: np.ndarray, left: np.ndarray, right: np.ndarray, probability: np.ndarray,
                          weight: np.ndarray) -> np.ndarray:
    """For each record (by position), the row of the pairs `left`–`right` holding its strongest pair inside
    its own cluster (`root`: each record's cluster), by probability, then match weight (probabilities round
    to 1 for strong pairs), the first row on a tie; -1: none."""
    inside = np.full(len(root), -1, dtype=np.int64)
    known = (left >= 0) & (right >= 0)
    rows = np.flatnonzero(known & (root[np.where(known, left, 0)] == root[np.where(known, right, 0)]))
    if not len(rows):
        return inside
    at = np.concatenate([rows, rows])
    who = np.concatenate([left[rows], right[rows]])
    order = np.lexsort((at, -weight[at], -probability[at], who))  # by record, strongest first, first row on a tie
    first = order[np.r_[True, who[order][1:] != who[order][:-1]]]
    inside[who[first]] = at[first]
    return inside


class _Scored(NamedTuple):
    """Scored pairs as columns, their records as positions in the clustered table (-1: not in it)."""

    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray
    weight: np.ndarray
    weights: np.ndarray  # JSON objects: comparison -> match weight

    @classmethod
    def of(cls, pairs: pd.DataFrame, records: Records) -> _Scored:
        return cls(records.positions(pairs["unique_id_l"]), records.positions(pairs["unique_id_r"]),
                   pairs["match_probability"].to_numpy(dtype=float), pairs["match_weight"].to_numpy(dtype=float),
                   pairs["weights"].to_numpy(dtype=object))


@collector_paused
def plan_incremental(
    new: pd.DataFrame,
    existing: pd.DataFrame,
    pairs_new: pd.DataFrame,
    pairs_between: pd.DataFrame,
    assignment: Mapping[str, str],
    upper: float,
    lower: float,
    reviewed: Reviewed = Reviewed(),
    make_id: IdFactory = new_person_id,
) -> LinkPlan:
    """Decide persons and links for `new` records given the `existing` ones and their persons.

    In four steps: the new records are clustered on their strong pairs; the clusters that meet no
    existing record become new persons in bulk; each other cluster is decided against the persons it
    meets; weak pairs between the new persons become review items. A first link holds millions of new
    records and few that need a decision one by one: the bulk works on columns and positions, and the
    per-record lookups are built for the records that need them.
    """
    plan = LinkPlan()
    records = _records(new)
    n = len(records.ids)
    scored = _Scored.of(pairs_new, records)
    known = (scored.left >= 0) & (scored.right >= 0)
    strong = known & (scored.probability >= upper)
    clusters = cluster(records, scored.left[strong], scored.right[strong], scored.weight[strong])
    plan.refused_conflicts += len(clusters.refused_conflict)
    plan.refused_chains += len(clusters.refused_chain)
    plan.tied_records += len({a for a, _, _ in clusters.refused_tie})
    root = clusters.root

    def clusters_of(positions: np.ndarray) -> np.ndarray:
        """Per record: whether its cluster holds one of the records at `positions`."""
        hit = np.zeros(n, dtype=bool)
        hit[root[positions[positions >= 0]]] = True
        return hit[root]

    between_by_new = _existing_partners(pairs_between, assignment)
    undecided = clusters_of(records.positions(between_by_new))
    probability = pairs_new["match_probability"]
    weak_new = _and_chained(pairs_new[(probability >= lower) & (probability < upper)], pairs_new[strong],
                            [*clusters.refused_chain, *clusters.refused_tie])
    weak_ends = np.concatenate([records.positions(weak_new["unique_id_l"]), records.positions(weak_new["unique_id_r"])])
    # The records whose clusters are decided one by one or open review items, with their lookups.
    involved = undecided | clusters_of(weak_ends)
    members_of = clusters.members(involved)
    cluster_of = {uid: root_id for root_id, members in members_of.items() for uid in members}
    person_of_cluster = _new_persons_in_bulk(plan, clusters, ~undecided, scored, make_id, involved)
    needs = np.zeros(n, dtype=bool)
    needs[weak_ends[weak_ends >= 0]] = True
    needs |= undecided
    touching = known & (needs[np.where(known, scored.left, 0)] | needs[np.where(known, scored.right, 0)])
    undecided_uids = {uid for uid, at in zip(records.ids, undecided.tolist(), strict=True) if at}
    best = _best_edges(pd.concat([pairs_new[touching], _touching(pairs_between, undecided_uids)], ignore_index=True))
    subset = new[involved]
    new_keys = _keys(subset)
    new_traits = _traits(subset)
    deciding = _Deciding(plan, best, assignment, _keys_by_person(existing, assignment), new_keys,
                         {(uid, person) for uid, person in reviewed.no_matches}, upper, lower, make_id,
                         _Sides(subset, existing), _records_by_person(assignment), {**_traits(existing), **new_traits})
    for root_id, members in members_of.items():
        if root_id not in person_of_cluster:
            person_of_cluster[root_id] = deciding.cluster(members, between_by_new)
    deciding.weak_between_new_persons(weak_new, members_of, cluster_of, person_of_cluster)
    return plan


def _existing_partners(pairs_between: pd.DataFrame,
                       assignment: Mapping[str, str]) -> dict[str, list[tuple[str, float]]]:
    """For each new record, the existing records it was scored against, with the pair's probability."""
    partners: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a, b, p in zip(pairs_between["unique_id_l"].tolist(), pairs_between["unique_id_r"].tolist(),
                       pairs_between["match_probability"].tolist(), strict=True):
        old, fresh = (a, b) if a in assignment else (b, a)
        if old in assignment:
            partners[fresh].append((old, float(p)))
    return partners


def _records_by_person(assignment: Mapping[str, str]) -> dict[str, list[str]]:
    records: dict[str, list[str]] = defaultdict(list)
    for uid, person in assignment.items():
        records[person].append(uid)
    return records


def _keys_by_person(existing: pd.DataFrame, assignment: Mapping[str, str]) -> dict[str, dict[str, set[str]]]:
    """The valid personal ids and insurance numbers each existing person carries, to refuse a MATCH that
    would give a person two of them."""
    existing_keys = _keys(existing)
    person_keys: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for uid, person in assignment.items():
        for kind, values in existing_keys.items():
            value = values.get(uid)
            if isinstance(value, str):
                person_keys[person][kind].add(value)
    return person_keys


def _new_persons_in_bulk(plan: LinkPlan, clusters: ClusterResult, alone: np.ndarray, scored: _Scored,
                         make_id: IdFactory, wanted: np.ndarray) -> dict[str, str]:
    """Most clusters meet no existing record (`alone`: per record, whether its cluster is such): each is a
    new person, its records linked by their strongest pair inside it. Done in bulk, as columns (a first
    link is nearly all of these). Returns the person of each such cluster that holds a `wanted` record,
    by the cluster's root record."""
    ids, root = clusters.ids, clusters.root
    inside = _best_within_clusters(root, scored.left, scored.right, scored.probability, scored.weight)
    positions = np.flatnonzero(alone)
    order = positions[np.argsort(root[positions], kind="stable")]  # cluster by cluster, each in the table's order
    roots = root[order]
    starts = np.flatnonzero(np.r_[True, roots[1:] != roots[:-1]]) if len(order) else np.array([], dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(order)])
    table_ids = np.asarray(ids, dtype=object)
    uids = table_ids[order].tolist()
    bounds = [*starts.tolist(), len(order)]
    persons = [make_id(uids[s:e]) for s, e in pairwise(bounds)]
    plan.new_persons.extend(persons)
    row = inside[order]
    has = row >= 0
    through = row[has]

    def column(values: np.ndarray, alone: object) -> list[object]:
        """Each record's value of its pair inside its cluster, `alone` for a record with none."""
        out = np.full(len(order), alone, dtype=object)
        out[has] = values
        return out.tolist()

    partners = np.where(scored.left[through] == order[has], scored.right[through], scored.left[through])
    plan.links.extend(map(Link, uids, np.repeat(np.asarray(persons, dtype=object), sizes).tolist(),
                          repeat("MATCH", len(uids)), column(scored.probability[through], 1.0),
                          column(scored.weight[through], None), column(scored.weights[through], NO_WEIGHTS),
                          column(table_ids[partners], None)))
    first = roots[starts]
    kept = np.flatnonzero(wanted[first]) if len(starts) else np.array([], dtype=np.int64)
    return {ids[r]: persons[k] for k, r in zip(kept.tolist(), first[kept].tolist(), strict=True)}


@dataclass
class _Deciding:
    """The clusters of new records that meet existing persons, decided one by one."""

    plan: LinkPlan
    best: dict[tuple[str, str], tuple[float, float, str]]
    assignment: Mapping[str, str]
    person_keys: dict[str, dict[str, set[str]]]
    new_keys: dict[str, dict[str, str]]
    ruled_out: set[tuple[str, str]]
    upper: float
    lower: float
    make_id: IdFactory
    sides: _Sides
    records_of: Mapping[str, list[str]]  # each existing person's records this run knows
    traits: Mapping[str, Traits]

    def chained(self, members: list[str], person: str) -> bool:
        """The chain guard against an existing person: a new record and one of the person's records
        (that this run met) disagree on sex or birth year, and no strong pair joins the two."""
        for uid in members:
            mine = self.traits.get(uid, (None, None))
            for old in self.records_of.get(person, ()):
                if disagree(mine, self.traits.get(old, (None, None))):
                    edge = self.best.get((uid, old))
                    if edge is None or edge[0] < self.upper:
                        return True
        return False

    def keys_of(self, members: Iterable[str]) -> dict[str, set[str]]:
        """The valid personal ids and insurance numbers of some new records."""
        return {kind: {v for uid in members if isinstance(v := values.get(uid), str)}
                for kind, values in self.new_keys.items()}

    def review(self, uid: str, person: str, partners: Iterable[str], across_ids: bool, own: Iterable[str]) -> None:
        """A review item for `uid` against `person`, unless the pair is across a conflict (`across_ids`:
        the two sides hold different valid ids; else the strongest pair's records conflict), the
        person's records contradict the record's birth date (`_Sides.contradicted`), or the record's own
        person (its records `own`) holds it more surely (`_held_elsewhere`)."""
        partners = list(partners)
        link = _link(self.best, uid, person, "POSSIBLE_MATCH", partners)
        if across_ids or self.sides.conflict(uid, link.partner):
            self.plan.withheld_reviews += 1
        elif self.sides.contradicted(uid, {*partners, *self.records_of.get(person, ())}):
            self.plan.contradicted_reviews += 1
        elif _held_elsewhere(self.best, uid, link.probability, own, self.upper):
            self.plan.elsewhere_reviews += 1
        else:
            self.plan.links.append(link)

    def link(self, uid: str, person: str, state: str, partners: Iterable[str]) -> None:
        """Link `uid` to `person` through its strongest scored pair with one of `partners`."""
        self.plan.links.append(_link(self.best, uid, person, state, partners))

    def cluster(self, members: list[str], between_by_new: Mapping[str, list[tuple[str, float]]]) -> str:
        """Decide one cluster: MATCH to the one compatible person it strongly meets; of several, MATCH to
        the strongest and POSSIBLE_MATCH to the others, which become possible duplicates; else a new
        person; and POSSIBLE_MATCH to the persons it meets weakly. Returns the cluster's person."""
        strong_persons: dict[str, list[str]] = defaultdict(list)
        weak_persons: dict[str, list[str]] = defaultdict(list)
        for uid in members:
            for old, p in between_by_new.get(uid, []):
                person = self.assignment[old]
                if (uid, person) in self.ruled_out or p < self.lower:
                    continue
                if p >= self.upper:
                    strong_persons[person].append(old)
                else:
                    weak_persons[person].append(old)
        cluster_keys = self.keys_of(members)
        compatible = {person: olds for person, olds in strong_persons.items()
                      if _ids_compatible(cluster_keys, self.person_keys[person])}
        chained = {person for person in compatible if self.chained(members, person)}
        self.plan.refused_chains += len(chained)
        compatible = {person: olds for person, olds in compatible.items() if person not in chained}
        refused = set(strong_persons) - set(compatible)
        for person in refused:
            weak_persons[person].extend(strong_persons[person])
        self.plan.refused_conflicts += len(refused) - len(chained)
        if len(compatible) > 1:
            person = self._possible_duplicates(members, compatible)
        elif len(compatible) == 1:
            person = next(iter(compatible))
            for uid in members:
                self.link(uid, person, "MATCH", [*compatible[person], *members])
        else:
            person = self.make_id(members)
            self.plan.new_persons.append(person)
            for uid in members:
                self.link(uid, person, "MATCH", members)
        for weak_person, olds in weak_persons.items():
            if weak_person == person:
                continue
            for uid in members:
                if any((uid, o) in self.best for o in olds):
                    if weak_person in refused:  # the model wanted it, a wall stopped it: a reviewer sees it
                        self.link(uid, weak_person, "POSSIBLE_MATCH", olds)
                    else:
                        self.review(uid, weak_person, olds,
                                    not _ids_compatible(cluster_keys, self.person_keys[weak_person]),
                                    [*members, *self.records_of.get(person, ()), *compatible.get(person, ())])
        return person

    def _possible_duplicates(self, members: list[str], compatible: Mapping[str, list[str]]) -> str:
        """The cluster strongly meets several persons: MATCH to the one it meets most strongly,
        POSSIBLE_MATCH to the others, and each pair of them a possible duplicate. Returns the person."""
        persons = sorted(compatible)

        def strength(person: str) -> tuple[float, float]:
            edges = [self.best[(uid, o)] for uid in members for o in compatible[person] if (uid, o) in self.best]
            return max((_strength(e) for e in edges), default=(0.0, float("-inf")))

        ranked = sorted(persons, key=lambda person: (strength(person), person), reverse=True)
        chosen = ranked[0]
        if strength(ranked[1])[1] >= strength(chosen)[1] - TIE_MARGIN:
            # Equally like two persons (the tie rule of `linkage.mpi.clustering`): a person of its own.
            chosen = self.make_id(members)
            self.plan.new_persons.append(chosen)
            self.plan.tied_records += len(members)
        for uid in members:
            self.link(uid, chosen, "MATCH", [*compatible.get(chosen, []), *members])
            for person in persons:
                if person != chosen:
                    self.link(uid, person, "POSSIBLE_MATCH", compatible[person])
        for i, a in enumerate(persons):
            for b in persons[i + 1:]:
                p, _, weights = max((self.best[(uid, o)] for uid in members for o in compatible[a]
                                     if (uid, o) in self.best), key=_strength, default=(self.upper, None, NO_WEIGHTS))
                self.plan.duplicates.append((a, b, p, weights))
        return chosen

    def weak_between_new_persons(self, weak_new: pd.DataFrame, members_of: Mapping[str, list[str]],
                                 cluster_of: Mapping[str, str], person_of_cluster: Mapping[str, str]) -> None:
        """Weak links between new records of different new persons: one review item per pair of persons."""
        seen: set[tuple[str, str]] = set()
        for a, b in weak_new[["unique_id_l", "unique_id_r"]].itertuples(index=False):
            ra, rb = cluster_of.get(a), cluster_of.get(b)
            pa, pb = person_of_cluster.get(ra or ""), person_of_cluster.get(rb or "")
            if ra == rb or pa is None or pb is None or pa == pb:
                continue
            small, other_person = (a, pb) if len(members_of[ra or ""]) <= len(members_of[rb or ""]) else (b, pa)
            key = (small, other_person)
            if key in seen or key in self.ruled_out:
                continue
            seen.add(key)
            own, others = (members_of[ra or ""], members_of[rb or ""]) if small == a else \
                (members_of[rb or ""], members_of[ra or ""])
            self.review(small, other_person, others, not _ids_compatible(self.keys_of(own), self.keys_of(others)), own)


@collector_paused
def plan_rebuild(
    table: pd.DataFrame,
    pairs: pd.DataFrame,
    assignment: Mapping[str, str],
    upper: float,
    lower: float,
    reviewed: Reviewed = Reviewed(),
    make_id: IdFactory = new_person_id,
) -> LinkPlan:
    """Rebuild every person from all records, keeping reviewers' decisions and existing ids.

    Each new cluster takes the id of the existing person it shares most records with (manual
    matches first); an existing person that no cluster keeps is retired into the one that took most
    of its records.
    """
    must_link: list[tuple[str, str]] = []
    by_manual_person: dict[str, list[str]] = defaultdict(list)
    for uid, person in reviewed.manual_matches.items():
        by_manual_person[person].append(uid)
    for uids in by_manual_person.values():
        must_link.extend((uids[0], other) for other in uids[1:])
    records_of: dict[str, list[str]] = defaultdict(list)
    for uid, person in assignment.items():
        records_of[person].append(uid)
    cannot_link = [(uid, other) for uid, person in reviewed.no_matches for other in records_of.get(person, [])[:1]]
    cannot_link += [(records_of[a][0], records_of[b][0]) for a, b in reviewed.not_duplicates
                    if records_of.get(a) and records_of.get(b)]
    strong = pairs[pairs["match_probability"] >= upper]
    records = _records(table)
    scored = _Scored.of(strong, records)
    clusters = cluster(records, scored.left, scored.right, scored.weight, must_link=must_link, cannot_link=cannot_link)
    plan = LinkPlan(refused_conflicts=len(clusters.refused_conflict), refused_chains=len(clusters.refused_chain),
                    tied_records=len({a for a, _, _ in clusters.refused_tie}))
    best = _best_edges(pairs)
    members_of = clusters.members()
    # Give each cluster the existing id it overlaps most (manual matches count double).
    overlaps: list[tuple[int, str, str]] = []
    for root, members in members_of.items():
        votes: Counter[str] = Counter()
        for uid in members:
            if uid in assignment:
                votes[assignment[uid]] += 2 if reviewed.manual_matches.get(uid) == assignment[uid] else 1
        overlaps.extend((count, root, person) for person, count in votes.items())
    taken: dict[str, str] = {}
    used: set[str] = set()
    for _, root, person in sorted(overlaps, key=lambda t: (-t[0], t[2])):
        if root not in taken and person not in used:
            taken[root] = person
            used.add(person)
    for root, members in members_of.items():
        kept = taken.get(root)
        person = kept if kept is not None else make_id(members)
        if kept is None:
            plan.new_persons.append(person)
        for uid in members:
            plan.links.append(_link(best, uid, person, "MATCH", members))
    final_person = {link.uid: link.person_id for link in plan.links}
    for person, uids in records_of.items():
        if person in used:
            continue
        successors = Counter(final_person[u] for u in uids if u in final_person)
        if successors:
            plan.retired.append((person, successors.most_common(1)[0][0]))
    ruled_out = set(reviewed.no_matches)
    seen: set[tuple[str, str]] = set()
    weak = _and_chained(pairs[(pairs["match_probability"] >= lower) & (pairs["match_probability"] < upper)],
                        strong, [*clusters.refused_chain, *clusters.refused_tie])
    keys = _keys(table)
    person_keys: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for kind, values in keys.items():
        for uid, value in values.items():
            if uid in final_person:
                person_keys[final_person[uid]][kind].add(value)
    sides = _Sides(table)
    members_of_person = _records_by_person(final_person)
    for a, b, p in weak[["unique_id_l", "unique_id_r", "match_probability"]].itertuples(index=False):
        pa, pb = final_person.get(a), final_person.get(b)
        if pa is None or pb is None or pa == pb:
            continue
        key = (a, pb)
        if key in seen or key in ruled_out:
            continue
        seen.add(key)
        if not _ids_compatible(person_keys[pa], person_keys[pb]) or sides.conflict(a, b):
            plan.withheld_reviews += 1
            continue
        if sides.contradicted(a, members_of_person[pb]):
            plan.contradicted_reviews += 1
            continue
        if _held_elsewhere(best, a, float(p), members_of_person[pa], upper):
            plan.elsewhere_reviews += 1
            continue
        _, weight, why = best[(a, b)]
        plan.links.append(Link(a, pb, "POSSIBLE_MATCH", float(p), weight, why, b))
    return plan
