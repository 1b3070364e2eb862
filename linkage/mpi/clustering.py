"""Persons from scored pairs: greedy, constrained clustering that never joins conflicting ids.

Edges are applied strongest first (Kruskal order). A union that would put two different valid
personal ids (or social insurance numbers) into one cluster (unless they are one keystroke apart: a
likely typo, which the model has weighed), or join records a reviewer kept apart,
is skipped: the chain is cut at its weakest link instead of being followed. A size cap guards against
the chaining of same-name strangers.

The chain guard: a union that would put together two records which disagree on sex or on the birth year
(`linkage.mpi.conflicts`: two years or more apart) is skipped unless those two records are themselves
strongly linked (an edge joins them). A record may be one person's with a mistyped sex, and the model may
say so of the pair; but a chain A–B–C where A and C disagree says only that each is like B (a nameless
newborn's record like two twins, a mother's like her daughter's). The refused edge is reported
(`refused_chain`) so that a reviewer sees it.

The tie rule: a record whose strongest links (as strong as each other: `TIE_MARGIN`) go to two records that
only it joins is equally like two people (a nameless newborn's record and same-sex twins): it is left a
person of its own, and those links are reported (`refused_tie`) for a reviewer to decide. One person's
records are linked to each other (directly or through others), so a record equally like them is no tie.

    clusters = constrained_clusters(ids, edges, keys, traits=traits)

Most components need no constraint at all: connected components are computed first (scipy), and
only a component that holds two different keys of one kind, a reviewer's constraint, or more records
than the cap is clustered edge by edge; every other component is its own cluster, which is exactly
what the greedy pass would have made of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from linkage.mpi.conflicts import BIRTH_YEARS_APART
from linkage.standardize import compatible_ids

Traits = tuple[str | None, int | None]  # a record's sex and birth year, either unknown


def disagree(a: Traits, b: Traits) -> bool:
    """Whether two records cannot be one person's without direct evidence: two sexes, or birth years
    `BIRTH_YEARS_APART` or more apart."""
    return ((a[0] is not None and b[0] is not None and a[0] != b[0])
            or (a[1] is not None and b[1] is not None and abs(a[1] - b[1]) >= BIRTH_YEARS_APART))


@dataclass
class ClusterResult:
    """The cluster (root record id) of every record, and the edges that were refused."""

    cluster_of: dict[str, str]
    refused_conflict: list[tuple[str, str, float]] = field(default_factory=list)
    refused_size: list[tuple[str, str, float]] = field(default_factory=list)
    refused_chain: list[tuple[str, str, float]] = field(default_factory=list)
    refused_tie: list[tuple[str, str, float]] = field(default_factory=list)

    def members(self) -> dict[str, list[str]]:
        groups: defaultdict[str, list[str]] = defaultdict(list)
        for record, root in self.cluster_of.items():
            groups[root].append(record)
        return dict(groups)


class _Forest:
    def __init__(self, ids: Iterable[str], keys: Mapping[str, Mapping[str, str]]) -> None:
        self.parent: dict[str, str] = {i: i for i in ids}
        self.size: dict[str, int] = dict.fromkeys(self.parent, 1)
        # Per root: kind of key -> the set of values its records carry (e.g. personal ids).
        self.keys: dict[str, dict[str, set[str]]] = {}
        for kind, values in keys.items():
            for record, value in values.items():
                if record in self.parent and isinstance(value, str) and value:
                    self.keys.setdefault(record, {}).setdefault(kind, set()).add(value)
        self.forbidden: dict[str, set[str]] = {}
        self.tokens: dict[str, set[str]] = {}
        # The chain guard: each record's traits, each root's records that carry one, the strong pairs.
        self.traits: dict[str, Traits] = {}
        self.carriers: dict[str, list[str]] = {}
        self.direct: set[tuple[str, str]] = set()

    def guard_chains(self, traits: Mapping[str, Traits], edges: Iterable[tuple[str, str, float]]) -> None:
        self.traits = {r: t for r, t in traits.items() if r in self.parent and t != (None, None)}
        self.carriers = {r: [r] for r in self.traits}
        self.direct = {(a, b) if a < b else (b, a) for a, b, _ in edges}

    def chained(self, a: str, b: str) -> bool:
        """Whether joining roots `a` and `b` would join two disagreeing records no edge joins."""
        for x in self.carriers.get(a, ()):
            tx = self.traits[x]
            for y in self.carriers.get(b, ()):
                if disagree(tx, self.traits[y]) and ((x, y) if x < y else (y, x)) not in self.direct:
                    return True
        return False

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def conflicts(self, a: str, b: str) -> bool:
        ka, kb = self.keys.get(a), self.keys.get(b)
        if ka is None or kb is None:
            return bool(self.forbidden) and self._forbidden(a, b)
        return self._keyed(ka, kb) or (bool(self.forbidden) and self._forbidden(a, b))

    @staticmethod
    def _keyed(ka: dict[str, set[str]], kb: dict[str, set[str]]) -> bool:
        return any(not compatible_ids(ka[kind] | kb[kind]) for kind in ka.keys() & kb.keys())

    def _forbidden(self, a: str, b: str) -> bool:
        fa, fb = self.forbidden.get(a, set()), self.forbidden.get(b, set())
        return bool(fa & self.tokens.get(b, set())) or bool(fb & self.tokens.get(a, set()))

    def union(self, a: str, b: str) -> str:
        if self.size[a] < self.size[b]:
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]
        for kind, values in self.keys.pop(b, {}).items():
            self.keys.setdefault(a, {}).setdefault(kind, set()).update(values)
        for table in (self.forbidden, self.tokens):
            if b in table:
                table.setdefault(a, set()).update(table.pop(b))
        if b in self.carriers:
            self.carriers.setdefault(a, []).extend(self.carriers.pop(b))
        return a


def constrained_clusters(
    ids: Iterable[str],
    edges: Iterable[tuple[str, str, float]],
    keys: Mapping[str, Mapping[str, str]] | None = None,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    max_size: int = 1000,
    traits: Mapping[str, Traits] | None = None,
) -> ClusterResult:
    """Cluster `ids` by `edges` (a, b, weight), strongest first, never joining conflicting keys.

    `keys` maps a kind (personal_id, bhxh) to each record's value. `must_link` pairs are joined
    first, whatever their keys (a reviewer said so); `cannot_link` pairs never end in one cluster.
    `traits` gives records' sex and birth year, for the chain guard.
    """
    keys = dict(keys or {})
    traits = traits or {}
    ids = list(ids)
    edges = list(edges)
    known = set(ids)  # a reviewer's decision about a record that is not clustered now has nothing to join
    must_link = [(a, b) for a, b in must_link if a in known and b in known]
    cannot_link = [(a, b) for a, b in cannot_link if a in known and b in known]
    tied, tie_links = _ties(edges)
    if not tied:
        return _constrained(ids, edges, keys, must_link, cannot_link, max_size, traits)
    # Cluster without the tied records; a tied record whose strongest partners all ended in one cluster
    # was no tie (they are one person's records, joined through others): it is clustered with its links.
    alone = _constrained(ids, [e for e in edges if e[0] not in tied and e[1] not in tied], keys, must_link,
                         cannot_link, max_size, traits)
    partners: defaultdict[str, set[str]] = defaultdict(set)
    for a, b, _ in tie_links:
        partners[a].add(alone.cluster_of.get(b, b))
    still = {record for record in tied if len(partners[record]) > 1}
    result = alone if still == tied else _constrained(
        ids, [e for e in edges if e[0] not in still and e[1] not in still], keys, must_link, cannot_link, max_size,
        traits)
    result.refused_tie = [link for link in tie_links if link[0] in still]
    return result


def _constrained(ids: list[str], edges: list[tuple[str, str, float]], keys: Mapping[str, Mapping[str, str]],
                 must_link: list[tuple[str, str]], cannot_link: list[tuple[str, str]], max_size: int,
                 traits: Mapping[str, Traits]) -> ClusterResult:
    if not edges and not must_link:
        return ClusterResult(cluster_of={i: i for i in ids})
    n = len(ids)
    position = dict(zip(ids, range(n), strict=True))
    left = np.array([position[a] for a, _, _ in edges], dtype=np.int64)
    right = np.array([position[b] for _, b, _ in edges], dtype=np.int64)
    graph = coo_matrix((np.ones(len(edges)), (left, right)), shape=(n, n))
    count, component = connected_components(graph, directed=False)
    hard = np.bincount(component, minlength=count) > max_size  # per component
    for values in keys.values():
        # A component is hard when its records carry more than one value of this kind of key.
        carried = [(position[record], value) for record, value in values.items()
                   if record in position and isinstance(value, str) and value]
        if carried:
            codes: dict[str, int] = {}
            where = np.fromiter((component[i] for i, _ in carried), dtype=np.int64, count=len(carried))
            value_code = np.fromiter((codes.setdefault(v, len(codes)) for _, v in carried), dtype=np.int64,
                                     count=len(carried))
            distinct = np.unique(where * (len(codes) + 1) + value_code) // (len(codes) + 1)
            hard |= np.bincount(distinct, minlength=count) > 1
    hard |= _disagreeing(traits, position, component, count)
    constrained = [position[x] for pair in (*must_link, *cannot_link) for x in pair if x in position]
    hard[component[constrained]] = True
    # Each easy component is one cluster, named after its first record (in the order of `ids`).
    first = np.full(count, n, dtype=np.int64)
    np.minimum.at(first, component, np.arange(n))
    root_of = first[component]
    is_hard = hard[component]
    result = ClusterResult(cluster_of={uid: ids[root] for uid, root, h in zip(ids, root_of.tolist(), is_hard.tolist(),
                                                                             strict=True) if not h})
    if is_hard.any():
        hard_ids = {uid for uid, h in zip(ids, is_hard.tolist(), strict=True) if h}
        hard_edges = [e for e in edges if e[0] in hard_ids]
        hard_keys = {kind: {r: v for r, v in values.items() if r in hard_ids} for kind, values in keys.items()}
        hard_traits = {r: t for r, t in traits.items() if r in hard_ids}
        rest = _greedy([i for i in ids if i in hard_ids], hard_edges, hard_keys, must_link, cannot_link, max_size,
                       hard_traits)
        result.cluster_of.update(rest.cluster_of)
        result.refused_conflict, result.refused_size = rest.refused_conflict, rest.refused_size
        result.refused_chain = rest.refused_chain
    return result


# Links whose match weights are this close (in bits) are as strong: the same comparisons agree and disagree
# on both sides (a nameless newborn's record against twins of one sex). A wider margin would also take in
# one person's records linked through a third, whose weights differ by a field or two.
TIE_MARGIN = 0.01


def _ties(edges: list[tuple[str, str, float]]) -> tuple[set[str], list[tuple[str, str, float]]]:
    """The records equally like two records that nothing but them joins, and their strongest links.

    A record's strongest links (equal weights: `TIE_MARGIN`) reach two partners; if the links that do not
    touch the record still join those partners, they are one person's records and the record is no tie.
    """
    if len(edges) < 2:
        return set(), []
    codes, names = pd.factorize(pd.Series([x for a, b, _ in edges for x in (a, b)], dtype=object))
    left, right = codes[0::2], codes[1::2]
    weight = np.fromiter((w for _, _, w in edges), dtype=np.float64, count=len(edges))
    strongest = np.full(len(names), -np.inf)
    np.maximum.at(strongest, left, weight)
    np.maximum.at(strongest, right, weight)
    near_left = weight >= strongest[left] - TIE_MARGIN  # the edge is among its left record's strongest
    near_right = weight >= strongest[right] - TIE_MARGIN
    several = (np.bincount(left[near_left], minlength=len(names))
               + np.bincount(right[near_right], minlength=len(names))) > 1
    if not several.any():
        return set(), []
    top: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for n in np.flatnonzero(near_left & several[left]).tolist():
        top[edges[n][0]].append((edges[n][1], edges[n][2]))
    for n in np.flatnonzero(near_right & several[right]).tolist():
        top[edges[n][1]].append((edges[n][0], edges[n][2]))
    groups = {record: sorted(links) for record, links in top.items()}
    partners = {b for links in groups.values() for b, _ in links}
    direct = {(a, b) if a < b else (b, a) for a, b, _ in edges if a in partners and b in partners}
    # Most candidates are a record of one person equally like two of its copies, linked to each other:
    # decided by the direct links; the rest by a search of the links that do not touch the record.
    undecided = {record: [b for b, _ in links] for record, links in groups.items()
                 if any(((x, y) if x < y else (y, x)) not in direct
                        for i, (x, _) in enumerate(links) for y, _ in links[i + 1:])}
    tied: set[str] = set()
    if undecided:
        adjacency = _adjacency(edges, left, right, names, set(undecided))
        tied = {record for record, others in undecided.items() if not _joined_without(adjacency, record, others)}
    return tied, sorted((record, b, w) for record in tied for b, w in groups[record])


def _adjacency(edges: list[tuple[str, str, float]], left: np.ndarray, right: np.ndarray, names: pd.Index,
               records: set[str]) -> dict[str, list[str]]:
    """The links of the connected components that hold `records`, as adjacency lists (`left`, `right`:
    each edge's records as codes into `names`)."""
    graph = coo_matrix((np.ones(len(edges)), (left, right)), shape=(len(names), len(names)))
    _, component = connected_components(graph, directed=False)
    wanted = np.isin(component[left], component[names.get_indexer(pd.Index(list(records)))])
    adjacency: defaultdict[str, list[str]] = defaultdict(list)
    for n in np.flatnonzero(wanted).tolist():
        a, b, _ = edges[n]
        adjacency[a].append(b)
        adjacency[b].append(a)
    return adjacency


def _joined_without(adjacency: Mapping[str, list[str]], record: str, partners: list[str]) -> bool:
    """Whether links that do not touch `record` join all of `partners` (a search from the first)."""
    seen, frontier = {partners[0], record}, [partners[0]]
    while frontier:
        node = frontier.pop()
        for other in adjacency.get(node, ()):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return all(p in seen for p in partners[1:])


def _disagreeing(traits: Mapping[str, Traits], position: Mapping[str, int], component: np.ndarray,
                 count: int) -> np.ndarray:
    """Per component, whether two of its records disagree on sex or birth year (the chain guard's work)."""
    hard = np.zeros(count, dtype=bool)
    if not traits:
        return hard
    rows = np.fromiter((position.get(r, -1) for r in traits), dtype=np.int64, count=len(traits))
    held = rows >= 0
    where = component[rows[held]]
    values = [t for t, h in zip(traits.values(), held.tolist(), strict=True) if h]
    sexes = pd.Series([t[0] for t in values], dtype=object)
    known = sexes.notna().to_numpy()
    if known.any():
        distinct = pd.DataFrame({"c": where[known], "s": sexes[known].to_numpy()}).drop_duplicates()
        hard |= np.bincount(distinct["c"].to_numpy(dtype=np.int64), minlength=count) > 1
    years = pd.array([t[1] for t in values], dtype="Int64")
    dated = ~np.asarray(years.isna())
    if dated.any():
        at, born = where[dated], np.asarray(years[dated], dtype=np.int64)
        low, high = np.full(count, np.iinfo(np.int64).max), np.full(count, np.iinfo(np.int64).min)
        np.minimum.at(low, at, born)
        np.maximum.at(high, at, born)
        hard |= (high - low) >= BIRTH_YEARS_APART
    return hard


def _greedy(ids: list[str], edges: list[tuple[str, str, float]], keys: Mapping[str, Mapping[str, str]],
            must_link: list[tuple[str, str]], cannot_link: list[tuple[str, str]], max_size: int,
            traits: Mapping[str, Traits] | None = None) -> ClusterResult:
    """Kruskal-ordered union with the conflict, constraint, chain and size checks."""
    forest = _Forest(ids, keys)
    if traits:  # a reviewer's match is as direct as an edge
        forest.guard_chains(traits, [*edges, *((a, b, 0.0) for a, b in must_link)])
    for a, b in must_link:
        ra, rb = forest.find(a), forest.find(b)
        if ra != rb:
            forest.union(ra, rb)
    for a, b in cannot_link:
        # Label each side with a token, forbid the other side's token.
        token_a, token_b = f"cl:{a}", f"cl:{b}"
        forest.tokens.setdefault(forest.find(a), set()).add(token_a)
        forest.tokens.setdefault(forest.find(b), set()).add(token_b)
        forest.forbidden.setdefault(forest.find(a), set()).add(token_b)
        forest.forbidden.setdefault(forest.find(b), set()).add(token_a)
    result = ClusterResult(cluster_of={})
    # Strongest first; equal weights in a fixed order, so the same edges always give the same clusters.
    for a, b, weight in sorted(edges, key=lambda e: (-e[2], e[0], e[1])):
        ra, rb = forest.find(a), forest.find(b)
        if ra == rb:
            continue
        if forest.conflicts(ra, rb):
            result.refused_conflict.append((a, b, weight))
            continue
        if forest.carriers and forest.chained(ra, rb):
            result.refused_chain.append((a, b, weight))
            continue
        if forest.size[ra] + forest.size[rb] > max_size:
            result.refused_size.append((a, b, weight))
            continue
        forest.union(ra, rb)
    result.cluster_of = {i: forest.find(i) for i in forest.parent}
    return result
