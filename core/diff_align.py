"""Row alignments for the frame diff (`core.diff`): which row of `before` each row of `after` is.

Three candidates, each a pair of position arrays: the same index label, a key column unique on
both sides, or identical content (as a multiset; left-over repeats are removed duplicates). The
diff keeps the one that explains the most unchanged cells (`equal_cells`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.diff_normal import Normal, equal

# Keys are looked for among the first columns only: an ID is nearly always near the front, and
# each candidate costs a full comparison.
_MAX_KEY_CANDIDATES = 3


Pairs = tuple[np.ndarray, np.ndarray]  # positions in before, positions in after


def by_index(b: pd.DataFrame, a: pd.DataFrame) -> Pairs | None:
    if not (b.index.is_unique and a.index.is_unique):
        return None
    common = a.index.intersection(b.index, sort=False)
    return b.index.get_indexer(common), a.index.get_indexer(common)


def key_columns(nb: Normal, na: Normal, common: list[str]) -> list[str]:
    keys = []
    for c in common:
        bs, as_ = nb.df[c], na.df[c]
        if pd.api.types.is_float_dtype(bs) or pd.api.types.is_float_dtype(as_):
            continue  # measurements, not identifiers
        if nb.missing[c] or na.missing[c] or not (nb.unique(c) and na.unique(c)):
            continue
        keys.append(c)
        if len(keys) >= _MAX_KEY_CANDIDATES:
            break
    return keys


def by_key(nb: Normal, na: Normal, key: str) -> Pairs | None:
    kb, ka = pd.Index(nb(key)), pd.Index(na(key))
    if not (kb.is_unique and ka.is_unique):  # e.g. 1 and "1": distinct values, one text
        return None
    pos = kb.get_indexer(ka)
    found = pos >= 0
    return pos[found], np.flatnonzero(found)


def _occurrence(codes: np.ndarray) -> np.ndarray:
    """For each element, how many equal elements come before it (0 for the first of its kind)."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(codes)), 0))
    occ = np.empty(len(codes), dtype=np.int64)
    occ[order] = np.arange(len(codes)) - run_start
    return occ


def by_content(hb: np.ndarray, ha: np.ndarray) -> Pairs:
    """Identical rows pair as a multiset. Of the rows left over, `before`'s surplus is taken
    from repeated rows first (de-duplication removed them); the rest pair in their order."""
    # The n-th occurrence of a row in `after` pairs with its n-th occurrence in `before`: one
    # exact integer key per (row hash, n), looked up in a hash table (no merge, no Python loop).
    codes, _ = pd.factorize(np.concatenate([hb, ha]))
    cb, ca = codes[: len(hb)].astype(np.int64), codes[len(hb) :].astype(np.int64)
    occ_b, occ_a = _occurrence(cb), _occurrence(ca)
    width = int(max(occ_b.max(initial=0), occ_a.max(initial=0))) + 1
    pos = pd.Index(cb * width + occ_b).get_indexer(ca * width + occ_a)  # unique keys in `before`
    hit = pos >= 0
    exact_b, exact_a = pos[hit], np.flatnonzero(hit)
    left_b = np.ones(len(hb), dtype=bool)
    left_b[exact_b] = False
    rest_b = np.flatnonzero(left_b)  # in order of position
    rest_a = np.flatnonzero(~hit)
    surplus = len(rest_b) - len(rest_a)
    if surplus > 0:
        repeats = np.flatnonzero(occ_b[rest_b] > 0)[:surplus]
        rest_b = np.delete(rest_b, repeats)
    n = min(len(rest_b), len(rest_a))
    pb = np.concatenate([exact_b, rest_b[:n]]).astype(np.intp)
    pa = np.concatenate([exact_a, rest_a[:n]]).astype(np.intp)
    order = np.argsort(pa, kind="stable")
    return pb[order], pa[order]


def equal_cells(
    b: pd.DataFrame, a: pd.DataFrame, nb: Normal, na: Normal, pairs: Pairs, common: list[str]
) -> np.ndarray:
    """A (pairs × common columns) boolean matrix: the cell is unchanged."""
    pb, pa = pairs
    if not common or len(pb) == 0:
        return np.ones((len(pb), len(common)), dtype=bool)
    # Row i paired with row i throughout: an untouched column is seen equal without normalising.
    same_rows = len(pb) == len(b) == len(a) and bool((pb == np.arange(len(pb))).all() and (pa == pb).all())
    cols = []
    for c in common:
        if same_rows and b[c].reset_index(drop=True).equals(a[c].reset_index(drop=True)):
            cols.append(np.ones(len(pb), dtype=bool))
        else:
            cols.append(equal_at(nb, na, c, pairs))
    return np.column_stack(cols)


def equal_at(nb: Normal, na: Normal, c: str, pairs: Pairs) -> np.ndarray:
    """`equal` of column `c` at the paired rows. Text on both sides compares by the value hashes
    the rows were paired with (equal text, equal hash; a 64-bit collision is as unlikely here as
    in the pairing): a Python string comparison per cell cost a preview ~40 ms on 50k rows."""
    pb, pa = pairs
    x, y = nb(c), na(c)
    if x.dtype == object and y.dtype == object:
        return np.asarray(nb.col_hash(c)[pb] == na.col_hash(c)[pa], dtype=bool)
    return equal(x[pb], y[pa])
