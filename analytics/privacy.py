"""Small-cell suppression for outputs seen by the epidemiologist role.

Primary: any cell counting 1 to 4 persons is withheld. Secondary: wherever a group of cells adds up to
a published total (the communes of a province, the age bands of a unit...), a group with exactly one
withheld cell would give it away by subtraction, so the smallest other non-zero cell of the group is
withheld too; this repeats until no group has a lone withheld cell. Withheld cells become missing
values (and rates computed from them are missing), and `suppressed` names the withheld columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

MIN_CELL = 5


def suppress(frame: pd.DataFrame, counts: Sequence[str], margins: Sequence[Sequence[str]] = (),
             minimum: int = MIN_CELL) -> pd.DataFrame:
    """A copy of `frame` with small cells withheld in `counts`.

    `margins` lists the key columns within which rows add up to a published total: `[["province"]]`
    says the rows of one province are summed into that province's total (`[[]]`: all rows are summed).
    """
    out = frame.copy().reset_index(drop=True)
    # Each margin's groups as numbers (every row in one group for a margin of no keys).
    groupings = [pd.Series(0, index=out.index) if not keys else
                 out.groupby(list(keys) if len(keys) != 1 else keys[0], dropna=False).ngroup()
                 for keys in margins]
    hidden = pd.DataFrame(False, index=out.index, columns=list(counts))
    for column in counts:
        values = pd.to_numeric(out[column], errors="coerce")
        withheld = ((values > 0) & (values < minimum)).fillna(False).astype(bool)
        changed = True
        while changed:
            changed = False
            for group in groupings:  # all groups of a margin at once: they do not overlap
                lone = withheld.groupby(group).transform("sum") == 1
                candidates = lone & ~withheld & (values > 0).fillna(False)
                if candidates.any():
                    # The smallest other non-zero cell of each such group (the first of equals).
                    withheld[values[candidates].groupby(group[candidates]).idxmin().to_numpy()] = True
                    changed = True
        hidden[column] = withheld
        whole = bool(((values.dropna() % 1) == 0).all())
        out[column] = values.astype("Int64" if whole else "Float64").mask(withheld)
    names = [pd.Series(column, index=out.index).where(hidden[column], "") for column in hidden.columns]
    out["suppressed"] = ([",".join(name for name in row if name) for row in zip(*names, strict=True)]
                         if names else "")
    out.index = frame.index
    return out


def check_no_identifiers(frame: pd.DataFrame) -> None:
    """Refuse an output for the epidemiologist role that carries person identifiers or names."""
    forbidden = {"person_id", "name", "personal_id", "bhxh", "cmnd", "phone", "household", "birth_date"}
    found = forbidden & set(frame.columns)
    if found:
        raise ValueError(f"an aggregate output may not carry identifiers: {sorted(found)}")
