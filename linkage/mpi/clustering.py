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
from functools import cached_property

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


@dataclass(frozen=True)
class Records:
    """The records to cluster, as columns in the order of `ids`: each kind of key's value (personal id,
    insurance number; missing or empty: none) and each record's sex (None: unknown) and birth year (NaN:
    unknown). A first link clusters millions of records: columns, not a dict per record."""

    ids: list[str]
    keys: Mapping[str, np.ndarray] = field(default_factory=dict)
    sex: np.ndarray | None = None
    year: np.ndarray | None = None

    @classmethod
    def from_mappings(cls, ids: Iterable[str], keys: Mapping[str, Mapping[str, str]] | None = None,
                      traits: Mapping[str, Traits] | None = None) -> Records:
        ids = list(ids)
        columns = {kind: np.array([values.get(i) for i in ids], dtype=object) for kind, values in (keys or {}).items()}
        if not traits:
            return cls(ids, columns)
        known = [traits.get(i, (None, None)) for i in ids]
        year = np.array([np.nan if t[1] is None else t[1] for t in known], dtype=float)
        return cls(ids, columns, np.array([t[0] for t in known], dtype=object), year)

    @cached_property
    def index(self) -> pd.Index:
        return pd.Index(self.ids)

    def positions(self, uids: Iterable[str] | pd.Series) -> np.ndarray:
        """Each uid's position in `ids` (-1: not among them)."""
        wanted = pd.Index(uids) if isinstance(uids, pd.Series) else pd.Index(list(uids), dtype=object)
        return np.asarray(self.index.get_indexer(wanted), dtype=np.int64)

    def traits_of(self, positions: np.ndarray) -> dict[str, Traits]:
        """The sex and birth year of the records at `positions` that know either."""
        if self.sex is None and self.year is None:
            return {}
        out: dict[str, Traits] = {}
        for p in positions.tolist():
            sex = None if self.sex is None else _known(self.sex[p])
            year = None if self.year is None or np.isnan(self.year[p]) else int(self.year[p])
            if sex is not None or year is not None:
                out[self.ids[p]] = (sex, year)
        return out

    def keys_of(self, positions: np.ndarray) -> dict[str, dict[str, str]]:
        """Each kind of key's values of the records at `positions` that carry one."""
        return {kind: {self.ids[p]: v for p in positions.tolist() if isinstance(v := column[p], str) and v}
                for kind, column in self.keys.items()}


def _known(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class ClusterResult:
    """The cluster of every record (the position of its root record in `ids`), and the edges refused."""

    ids: list[str]
    root: np.ndarray
    refused_conflict: list[tuple[str, str, float]] = field(default_factory=list)
    refused_size: list[tuple[str, str, float]] = field(default_factory=list)
    refused_chain: list[tuple[str, str, float]] = field(default_factory=list)
    refused_tie: list[tuple[str, str, float]] = field(default_factory=list)

    @cached_property
    def cluster_of(self) -> dict[str, str]:
        """Each record's cluster, named after its root record."""
        ids = self.ids
        return dict(zip(ids, map(ids.__getitem__, self.root.tolist()), strict=True))

    def members(self, among: np.ndarray | None = None) -> dict[str, list[str]]:
        """Each cluster's records (in the order of `ids`), by its root; `among`: only the records where
        this mask is true."""
        positions = np.arange(len(self.ids)) if among is None else np.flatnonzero(among)
        order = positions[np.argsort(self.root[positions], kind="stable")]
        roots = self.root[order]
        starts = np.flatnonzero(np.r_[True, roots[1:] != roots[:-1]]) if len(order) else np.array([], dtype=np.int64)
        ids = np.asarray(self.ids, dtype=object)
        uids = ids[order].tolist()
        bounds = [*starts.tolist(), len(order)]
        return {self.ids[r]: uids[s:e] for r, s, e in zip(roots[starts].tolist(), bounds[:-1], bounds[1:], strict=True)}


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
    `traits` gives records' sex and birth year, for the chain guard. (`cluster` takes the same as columns.)
    """
    records = Records.from_mappings(ids, keys, traits)
    edges = list(edges)
    left = records.positions(a for a, _, _ in edges)
    right = records.positions(b for _, b, _ in edges)
    weight = np.fromiter((w for _, _, w in edges), dtype=np.float64, count=len(edges))
    return cluster(records, left, right, weight, must_link, cannot_link, max_size)


def cluster(records: Records, left: np.ndarray, right: np.ndarray, weight: np.ndarray,
            must_link: Iterable[tuple[str, str]] = (), cannot_link: Iterable[tuple[str, str]] = (),
            max_size: int = 1000) -> ClusterResult:
    """`constrained_clusters` of `records` by the edges `left[i]`–`right[i]` (positions in `records.ids`)
    of weight `weight[i]`."""
    if (left < 0).any() or (right < 0).any():
        raise ValueError("an edge names a record that is not among the records clustered")
    ids = records.ids

    def known(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        # A reviewer's decision about a record that is not clustered now has nothing to join.
        pairs = list(pairs)
        at = records.positions(x for pair in pairs for x in pair).reshape(-1, 2) if pairs else np.empty((0, 2))
        return [pair for pair, (a, b) in zip(pairs, at.tolist(), strict=True) if a >= 0 and b >= 0]

    must, cannot = known(must_link), known(cannot_link)
    tied, tie_links = _ties(ids, left, right, weight)
    if not tied:
        return _constrained(records, left, right, weight, must, cannot, max_size)
    # Cluster without the tied records; a tied record whose strongest partners all ended in one cluster
    # was no tie (they are one person's records, joined through others): it is clustered with its links.
    def without(records_out: set[str]) -> np.ndarray:
        out = np.zeros(len(ids), dtype=bool)
        out[records.positions(records_out)] = True
        return ~(out[left] | out[right])

    kept = without(tied)
    alone = _constrained(records, left[kept], right[kept], weight[kept], must, cannot, max_size)
    partners: defaultdict[str, set[int]] = defaultdict(set)
    for (a, _, _), b in zip(tie_links, records.positions(b for _, b, _ in tie_links).tolist(), strict=True):
        partners[a].add(int(alone.root[b]))
    still = {record for record in tied if len(partners[record]) > 1}
    if still == tied:
        result = alone
    else:
        kept = without(still)
        result = _constrained(records, left[kept], right[kept], weight[kept], must, cannot, max_size)
    result.refused_tie = [link for link in tie_links if link[0] in still]
    return result


def _constrained(records: Records, left: np.ndarray, right: np.ndarray, weight: np.ndarray,
                 must_link: list[tuple[str, str]], cannot_link: list[tuple[str, str]], max_size: int) -> ClusterResult:
    ids = records.ids
    n = len(ids)
    if not len(left) and not must_link:
        return ClusterResult(ids, np.arange(n))
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    component = labels.astype(np.int64)  # int64: the keys' checks multiply it by the number of values
    hard = np.bincount(component, minlength=count) > max_size  # per component
    for column in records.keys.values():
        # A component is hard when its records carry more than one value of this kind of key.
        hard |= _several_values(column, component, count)
    hard |= _disagreeing(records, component, count)
    constrained = records.positions(x for pair in (*must_link, *cannot_link) for x in pair)
    hard[component[constrained]] = True
    # Each easy component is one cluster, named after its first record (in the order of `ids`).
    first = np.full(count, n, dtype=np.int64)
    np.minimum.at(first, component, np.arange(n))
    root = first[component]
    is_hard = hard[component]
    result = ClusterResult(ids, root)
    if is_hard.any():
        positions = np.flatnonzero(is_hard)
        hard_ids = [ids[p] for p in positions.tolist()]
        picked = is_hard[left]
        hard_edges = list(zip([ids[p] for p in left[picked].tolist()], [ids[p] for p in right[picked].tolist()],
                              weight[picked].tolist(), strict=True))
        rest = _greedy(hard_ids, hard_edges, records.keys_of(positions), must_link, cannot_link, max_size,
                       records.traits_of(positions))
        root[positions] = positions[rest.root]
        result.refused_conflict, result.refused_size = rest.refused_conflict, rest.refused_size
        result.refused_chain = rest.refused_chain
    return result


# Links whose match weights are this close (in bits) are as strong: the same comparisons agree and disagree
# on both sides (a nameless newborn's record against twins of one sex). A wider margin would also take in
# one person's records linked through a third, whose weights differ by a field or two.
TIE_MARGIN = 0.01


def _ties(ids: list[str], left: np.ndarray, right: np.ndarray,
          weight: np.ndarray) -> tuple[set[str], list[tuple[str, str, float]]]:
    """The records equally like two records that nothing but them joins, and their strongest links.

    A record's strongest links (equal weights: `TIE_MARGIN`) reach two partners; if the links that do not
    touch the record still join those partners, they are one person's records and the record is no tie.
    """
    if len(left) < 2:
        return set(), []
    n = len(ids)
    strongest = np.full(n, -np.inf)
    np.maximum.at(strongest, left, weight)
    np.maximum.at(strongest, right, weight)
    near_left = weight >= strongest[left] - TIE_MARGIN  # the edge is among its left record's strongest
    near_right = weight >= strongest[right] - TIE_MARGIN
    several = (np.bincount(left[near_left], minlength=n) + np.bincount(right[near_right], minlength=n)) > 1
    if not several.any():
        return set(), []
    top: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for k in np.flatnonzero(near_left & several[left]).tolist():
        top[int(left[k])].append((int(right[k]), float(weight[k])))
    for k in np.flatnonzero(near_right & several[right]).tolist():
        top[int(right[k])].append((int(left[k]), float(weight[k])))
    is_partner = np.zeros(n, dtype=bool)
    is_partner[[b for links in top.values() for b, _ in links]] = True
    both = np.flatnonzero(is_partner[left] & is_partner[right])
    direct = {(a, b) if a < b else (b, a) for a, b in zip(left[both].tolist(), right[both].tolist(), strict=True)}
    # Most candidates are a record of one person equally like two of its copies, linked to each other:
    # decided by the direct links; the rest by a search of the links that do not touch the record.
    undecided = {record: [b for b, _ in links] for record, links in top.items()
                 if any(((x, y) if x < y else (y, x)) not in direct
                        for i, (x, _) in enumerate(links) for y, _ in links[i + 1:])}
    tied: set[int] = set()
    if undecided:
        adjacency = _adjacency(n, left, right, set(undecided))
        tied = {record for record, others in undecided.items() if not _joined_without(adjacency, record, others)}
    return {ids[r] for r in tied}, sorted((ids[r], ids[b], w) for r in tied for b, w in top[r])


def _adjacency(n: int, left: np.ndarray, right: np.ndarray, records: set[int]) -> dict[int, list[int]]:
    """The links of the connected components that hold `records` (positions of `n` records), as
    adjacency lists."""
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    wanted = np.isin(component[left], component[list(records)])
    adjacency: defaultdict[int, list[int]] = defaultdict(list)
    for a, b in zip(left[wanted].tolist(), right[wanted].tolist(), strict=True):
        adjacency[a].append(b)
        adjacency[b].append(a)
    return adjacency


def _joined_without(adjacency: Mapping[int, list[int]], record: int, partners: list[int]) -> bool:
    """Whether links that do not touch `record` join all of `partners` (a search from the first)."""
    seen, frontier = {partners[0], record}, [partners[0]]
    while frontier:
        node = frontier.pop()
        for other in adjacency.get(node, ()):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return all(p in seen for p in partners[1:])


def _several_values(column: np.ndarray, component: np.ndarray, count: int) -> np.ndarray:
    """Per component, whether its records hold two values of `column` (missing or empty: no value)."""
    values = pd.Series(column, dtype=object)
    held = (values.notna() & values.ne("")).to_numpy()
    if not held.any():
        return np.zeros(count, dtype=bool)
    codes = pd.factorize(values[held])[0].astype(np.int64)
    span = int(codes.max()) + 1
    distinct = np.unique(component[held] * span + codes) // span
    return np.bincount(distinct, minlength=count) > 1


def _disagreeing(records: Records, component: np.ndarray, count: int) -> np.ndarray:
    """Per component, whether two of its records disagree on sex or birth year (the chain guard's work)."""
    hard = np.zeros(count, dtype=bool)
    if records.sex is not None:
        hard |= _several_values(records.sex, component, count)
    if records.year is not None:
        dated = ~np.isnan(records.year)
        if dated.any():
            at, born = component[dated], records.year[dated].astype(np.int64)
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
    result = ClusterResult(ids, np.arange(len(ids)))
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
    position = {record: n for n, record in enumerate(ids)}
    result.root = np.array([position[forest.find(i)] for i in ids], dtype=np.int64)
    return result
