"""One vectorized evaluator per rule kind; each returns the rows that fail and what was not checked."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from auditor.distinct import by_code, dense_ids
from auditor.engine.context import Context, combine_codes, in_windows, table_keys, take_rows
from auditor.engine.vector import Env, as_series, evaluate, mask, to_bool
from auditor.errors import RuleError
from auditor.rules.expr import MULTI_COLUMNS, Func, columns_used
from auditor.rules.model import Rule


@dataclass
class Hits:
    over: str                          # 'lines' or 'diagnoses': the frame `rows` index into
    rows: np.ndarray                   # flagged rows
    env: dict                          # namespace -> frame aligned with `rows` (for messages)
    related: np.ndarray | None = None  # partner line rows (positions in lines), -1 for none
    claim_level: bool = False
    applicable: int = 0
    not_checked: int = 0
    missing: dict = field(default_factory=dict)  # table kind -> dates without data


def applicable(rule: Rule, ctx: Context, over: str | None = None) -> np.ndarray:
    """Rows the rule applies to and can check: in scope (`in_scope`) with every required input present."""
    ok = in_scope(rule, ctx, over)
    if rule.requires_columns:
        ok &= ~lacking_inputs(rule, ctx.frame(over or rule.over)).any(axis=1)
    return ok


def lacking_inputs(rule: Rule, frame: pd.DataFrame) -> np.ndarray:
    """(rows x requires_columns) mask: the required input is empty on the row."""
    cols = list(rule.requires_columns)
    absent = [c for c in cols if c not in frame.columns]
    if absent:
        raise RuleError(f"rule {rule.id}: requires_columns names unknown column(s) {', '.join(absent)}")
    return frame[cols].isna().to_numpy().reshape(len(frame), len(cols))


def missing_inputs(rule: Rule, ctx: Context) -> dict[str, int]:
    """Rows in the rule's scope that it cannot check because a `requires_columns` input is empty.

    Returns {column: rows lacking it, "_rows": rows lacking any, "_claims": their claims}; {} if none.
    """
    if not rule.requires_columns:
        return {}
    frame = ctx.frame(rule.over)
    scope = in_scope(rule, ctx)
    lack = lacking_inputs(rule, frame) & scope[:, None]
    anyl = lack.any(axis=1)
    if not anyl.any():
        return {}
    out = {c: int(lack[:, i].sum()) for i, c in enumerate(rule.requires_columns) if lack[:, i].any()}
    out["_rows"] = int(np.count_nonzero(anyl))
    out["_claims"] = int(frame["claim_id"][anyl].nunique())
    return out


def in_scope(rule: Rule, ctx: Context, over: str | None = None) -> np.ndarray:
    """Rows the rule applies to: claim type, the rule's effective dates, its `where` filter."""
    over = over or rule.over
    key = (id(rule), over)
    if key in ctx.scopes:  # asked again for coverage and required inputs: computed once per rule
        return ctx.scopes[key][1].copy()
    frame = ctx.frame(over)
    n = len(frame)
    ok = np.ones(n, dtype=bool)
    if rule.applies_to != "all":
        codes, uniques = ctx.codes(over, "claim_type")  # compare the few distinct values, not every row
        ok &= by_code(np.asarray(uniques == rule.applies_to, dtype=bool), codes, False)
    d = frame["service_date"]
    if rule.effective_from is not None:
        ok &= (d >= pd.Timestamp(rule.effective_from)).to_numpy(dtype=bool, na_value=False)
    if rule.effective_to is not None:
        ok &= (d <= pd.Timestamp(rule.effective_to)).to_numpy(dtype=bool, na_value=False)
    if rule.where is not None and ok.any():
        ok &= mask(rule.where, Env({None: frame}, n, ctx.as_of, rule.id))
    ctx.scopes[key] = (rule, ok)  # the rule is kept so its id stays unique while cached
    return ok.copy()


def env_columns(rule: Rule, frame: pd.DataFrame, ns: str | None, keep: tuple[str, ...] = (),
                extra: tuple = (), parts: tuple | None = None) -> list[str]:
    """The columns of `frame` that a rule's condition, message, evidence and subject read in namespace `ns`.

    Taking only these (instead of every column of a million-row frame) is most of the cost of a
    line rule; names the frame lacks stay absent, so errors and ``__raw`` defaults are unchanged.
    `extra`: more expressions the rule evaluates over these rows (measures, flag_where); `parts`:
    only these expressions (e.g. the condition alone), without the message, evidence and subject.
    """
    names: set[str] = set(keep)
    only = parts is not None
    parts = [*parts, *extra] if only else [rule.when, *rule.message_parts, *rule.evidence_parts, *extra]
    for node in parts:
        if node is None or isinstance(node, str):
            continue
        names |= {name for cns, name in columns_used(node) if cns == ns}
    if ns is None and rule.subject and not only:
        names.add(rule.subject)
    wanted = set(names)
    for name in names:
        wanted.add(name + "__raw")
        wanted.update(MULTI_COLUMNS.get(name, ()))
        if name == "diagnoses":
            wanted.add("code")
    return [c for c in frame.columns if c in wanted]


def _lookups(rule: Rule, ctx: Context, ok: np.ndarray, over: str):
    refs, checked, missing = {}, np.ones(len(ok), dtype=bool), {}
    for lk in rule.lookups:
        j = ctx.lookup(over, lk)
        refs[lk.alias] = j  # a Joined: _take picks rows from it; as a frame it is j.ref
        checked &= j.checked
        if (ok & ~j.checked).any():
            missing[lk.table] = ctx.frame(over)["service_date"][ok & ~j.checked]
    return refs, checked, missing


def eval_line(rule: Rule, ctx: Context) -> Hits:
    frame = ctx.frame(rule.over)
    ok = applicable(rule, ctx)
    refs, checked, missing = _lookups(rule, ctx, ok, rule.over)
    check = ok & checked
    todo = np.flatnonzero(check)
    keep = ("found", "_version")  # for the message and the finding's reference (the condition reads its own)
    # The condition reads its own columns; the message's columns are taken for the flagged rows only.
    if len(todo) * 4 >= len(frame) * 3:
        # Most rows: evaluate over the whole frame (conditions are row by row) and keep the rows
        # to check. No copy of the columns, and the run's cached encodings of them are reused.
        full = np.arange(len(frame))
        env = Env({None: frame, **{a: take_rows(r, full, env_columns(rule, r, a, parts=(rule.when,)))
                                   for a, r in refs.items()}}, len(frame), ctx.as_of, rule.id)
        rows = np.flatnonzero(mask(rule.when, env) & check)
    else:
        sub = {None: take_rows(frame, todo, env_columns(rule, frame, None, parts=(rule.when,))),
               **{a: take_rows(r, todo, env_columns(rule, r, a, parts=(rule.when,))) for a, r in refs.items()}}
        env = Env(sub, len(todo), ctx.as_of, rule.id)
        rows = todo[mask(rule.when, env)]
    hit_env = {None: take_rows(frame, rows, env_columns(rule, frame, None)),
               **{a: take_rows(r, rows, env_columns(rule, r, a, keep)) for a, r in refs.items()}}
    return Hits(rule.over, rows, hit_env,
                claim_level=rule.over == "diagnoses", applicable=int(np.count_nonzero(ok)),
                not_checked=int(np.count_nonzero(ok & ~checked)), missing=missing)


def _codes(values: pd.Series, categories: pd.Index) -> np.ndarray:
    # -1 for values not among the categories (get_indexer is a hash lookup, no per-row Python).
    return categories.get_indexer(pd.Index(values.astype(object))).astype(np.int64)


def _prefixes(frame_rows: np.ndarray, codes: pd.Series) -> pd.DataFrame:
    """Each code with each of its prefixes of 3+ characters (ICD-10-CM notes name categories)."""
    txt = codes.astype(object).where(codes.notna(), "").astype(str)
    parts = []
    for length in range(3, 8):
        keep = (txt.str.len() >= length).to_numpy()
        if keep.any():
            parts.append(pd.DataFrame({"_r": frame_rows[keep], "_k": txt[keep].str.slice(0, length).to_numpy()}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"_r": [], "_k": []})


def _side_entries(rows: np.ndarray, ids_by_length: list[np.ndarray], row_code: np.ndarray,
                  wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frame row, key id) entries of one side, in the order the row-by-row join lists them.

    ``ids_by_length``: per prefix length (or one entry for exact codes), the key id of each distinct
    code (-1 = none); only ids in ``wanted`` (a table's column) are kept: the others cannot match.
    """
    out_r, out_k = [], []
    code = row_code[rows]
    for ids in ids_by_length:
        good = ids >= 0  # per distinct code: its key is one the table's column has
        good[good] = wanted[ids[good]]
        keep = by_code(good, code, False)
        out_r.append(rows[keep])
        out_k.append(ids[code[keep]])
    if not out_r:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_r), np.concatenate(out_k)


def _pair_keys(ctx: Context, over: str, key: str, match: str):
    """Integer keys for a pair join: (per-length id arrays over the frame's distinct codes, key universe, row codes).

    Exact: the key of a row is its code. Prefix: each code's prefixes of 3-7 characters (as
    ``_prefixes``), numbered once over the distinct codes instead of per row.
    """
    row_code, uniques = ctx.codes(over, key)
    if match != "prefix":
        return [np.arange(len(uniques), dtype=np.int64)], pd.Index(uniques, dtype=object), row_code
    txt = pd.Series(uniques, dtype=object).astype(str)
    lens = txt.str.len().to_numpy()
    by_len, texts = [], []
    for length in range(3, 8):
        keep = lens >= length
        pre = txt.str.slice(0, length).to_numpy(dtype=object)
        by_len.append((keep, pre))
        texts.append(pre[keep])
    universe = pd.Index(pd.unique(np.concatenate(texts)) if texts else np.array([], dtype=object), dtype=object)
    ids = []
    for keep, pre in by_len:
        if keep.any():  # lengths no code reaches add no entries (as _prefixes)
            ids.append(np.where(keep, universe.get_indexer(pre), -1).astype(np.int64))
    return ids, universe, row_code


def _pairs_via_table(rule: Rule, ctx: Context, frame: pd.DataFrame, a_rows: np.ndarray, b_rows: np.ndarray,
                     ga: np.ndarray, gb: np.ndarray, missing: dict) -> pd.DataFrame:
    """Pairs (a, b) in one scope group whose keys are a table row's (left, right); returns _a, _b, _t, _v.

    Codes are integers (the frame's distinct codes, numbered once per run); only rows whose code
    is in the table take part, and the pairs come out in the order of the row-by-row join
    (``_pairs_via_table_rows``), which stays the reference and the fallback.
    """
    join = rule.join
    key = rule.default_key
    _, vcodes, vuniq = ctx.version_codes(rule.over, join.table)
    vcodes = vcodes[b_rows]  # the version in effect per b row, as an integer (-1 = none)
    has = vcodes >= 0
    vorder = pd.unique(vcodes[has])  # versions in order of first appearance
    versions = [vuniq[c] for c in vorder]
    for vid in versions:
        table = ctx.table(join.table, vid)
        if join.where is not None:
            table = ctx.filtered_table(join.table, vid, join.where, rule.id)
        cols = [join.left, join.right]
        if any(c not in table.columns for c in cols) or table[cols].isna().to_numpy().any() \
                or any(c not in table.columns for w in join.windows for c in w):
            return _pairs_via_table_rows(rule, ctx, frame, a_rows, b_rows, ga, gb, missing)
    if (~has).any():
        missing[join.table] = frame["service_date"].iloc[b_rows[~has]]
    ids, universe, row_code = _pair_keys(ctx, rule.over, key, join.match)
    nk = len(universe)
    gpos = np.full(len(frame), -1, dtype=np.int64)
    out = []
    for vcode, vid in zip(vorder, versions):
        table = ctx.table(join.table, vid)
        bsel = b_rows[vcodes == vcode]
        ctx.note_version(join.table, vid, len(bsel))
        if join.where is not None:
            table = ctx.filtered_table(join.table, vid, join.where, rule.id)
        ta = table_keys(table, join.left, universe)
        tb = table_keys(table, join.right, universe)
        tkeep = (ta >= 0) & (tb >= 0)
        t_idx = np.flatnonzero(tkeep)
        if not len(t_idx):
            continue
        ta, tb = ta[t_idx], tb[t_idx]
        want_a = np.zeros(nk, dtype=bool)
        want_a[ta] = True
        want_b = np.zeros(nk, dtype=bool)
        want_b[tb] = True
        ar, ak = _side_entries(a_rows, ids, row_code, want_a)
        br, bk = _side_entries(bsel, ids, row_code, want_b)
        if not len(ar) or not len(br):
            continue
        gpos[a_rows] = ga
        ag = gpos[ar]
        gpos[b_rows] = gb
        bg = gpos[br]
        # Two ways to the same pairs; take the one with fewer intermediate rows.
        per_key = np.bincount(ta, minlength=nk)
        via_table = int(per_key[ak].sum())
        ng = int(max(ag.max(initial=-1), bg.max(initial=-1))) + 1
        via_groups = int((np.bincount(ag, minlength=ng) * np.bincount(bg, minlength=ng)).sum())
        a = pd.DataFrame({"_pa": np.arange(len(ar)), "_ka": ak, "_g": ag})
        b = pd.DataFrame({"_pb": np.arange(len(br)), "_kb": bk, "_g": bg})
        t = pd.DataFrame({"_ka": ta, "_kb": tb, "_t": t_idx})
        if via_table <= via_groups:
            m = a.merge(t, on="_ka").merge(b, on=["_g", "_kb"])
        else:
            m = a.merge(b, on="_g").merge(t, on=["_ka", "_kb"])
            m = m.iloc[np.lexsort((m["_pb"].to_numpy(), m["_t"].to_numpy(), m["_pa"].to_numpy()))]
        m = pd.DataFrame({"_a": ar[m["_pa"].to_numpy()], "_b": br[m["_pb"].to_numpy()], "_t": m["_t"].to_numpy()})
        m = m[m["_a"].to_numpy() != m["_b"].to_numpy()]
        if join.dated_by is not None and len(m):
            d = frame["service_date"].to_numpy()[m["_b"].to_numpy()]
            wcols = list(dict.fromkeys(c for w in join.windows for c in w))
            m = m[in_windows(table[wcols].iloc[m["_t"].to_numpy()].reset_index(drop=True), d, join.windows)]
        m = m.drop_duplicates(["_a", "_b", "_t"])
        m["_v"] = vid
        out.append((vid, table, m[["_a", "_b", "_t", "_v"]].reset_index(drop=True)))
    return out


def _pairs_via_table_rows(rule: Rule, ctx: Context, frame: pd.DataFrame, a_rows: np.ndarray, b_rows: np.ndarray,
                          ga: np.ndarray, gb: np.ndarray, missing: dict) -> pd.DataFrame:
    """Pairs (a, b) in one scope group whose keys are a table row's (left, right); returns _a, _b, _t, _v."""
    join = rule.join
    key = rule.default_key
    vids = ctx.version_ids(join.table, frame["service_date"].iloc[b_rows].reset_index(drop=True))
    has = vids.notna().to_numpy()
    if (~has).any():
        missing[join.table] = frame["service_date"].iloc[b_rows[~has]]
    out = []
    for vid in pd.unique(vids[has]):
        table = ctx.table(join.table, vid)
        bsel = b_rows[(vids == vid).to_numpy()]
        ctx.note_version(join.table, vid, len(bsel))
        for c in (join.left, join.right):
            if c not in table.columns:
                raise RuleError(f"rule {rule.id}: table '{join.table}' has no column '{c}'")
        if join.where is not None:
            table = ctx.filtered_table(join.table, vid, join.where, rule.id)
        if join.match == "prefix":
            a = _prefixes(a_rows, frame[key].iloc[a_rows].reset_index(drop=True))
            b = _prefixes(bsel, frame[key].iloc[bsel].reset_index(drop=True))
        else:
            a = pd.DataFrame({"_r": a_rows, "_k": frame[key].iloc[a_rows].to_numpy()})
            b = pd.DataFrame({"_r": bsel, "_k": frame[key].iloc[bsel].to_numpy()})
        # Integer-encode the codes once so the joins run on int64 keys, and drop table rows
        # whose codes appear in no claim before joining (most of a 1M-row PTP table).
        cats = pd.Index(pd.unique(np.concatenate([a["_k"].astype(object).to_numpy(),
                                                  b["_k"].astype(object).to_numpy()])))
        ta = _codes(table[join.left], cats)
        tb = _codes(table[join.right], cats)
        tkeep = (ta >= 0) & (tb >= 0)
        t = pd.DataFrame({"_ka": ta[tkeep], "_kb": tb[tkeep], "_t": np.flatnonzero(tkeep)})
        if t.empty:
            continue
        gpos_a = np.searchsorted(a_rows, a["_r"].to_numpy())
        gpos_b = np.searchsorted(b_rows, b["_r"].to_numpy())
        a = pd.DataFrame({"_a": a["_r"].to_numpy(), "_ka": _codes(a["_k"], cats), "_g": ga[gpos_a]})
        b = pd.DataFrame({"_b": b["_r"].to_numpy(), "_kb": _codes(b["_k"], cats), "_g": gb[gpos_b]})
        m = a.merge(t, on="_ka").merge(b, on=["_g", "_kb"])
        m = m[m["_a"].to_numpy() != m["_b"].to_numpy()]
        if join.dated_by is not None and len(m):
            d = frame["service_date"].to_numpy()[m["_b"].to_numpy()]
            m = m[in_windows(table.iloc[m["_t"].to_numpy()].reset_index(drop=True), d, join.windows)]
        m = m.drop_duplicates(["_a", "_b", "_t"])
        m["_v"] = vid
        out.append((vid, table, m[["_a", "_b", "_t", "_v"]]))
    return out


def _missing_count(missing: dict) -> int:
    """Rows not checked: the union of the rows behind every table's missing dates (index = row)."""
    idx = [v.index.to_numpy() for v in missing.values() if len(v)]
    if len(idx) == 1 and (np.diff(idx[0]) > 0).all():  # one table, rows in order: all distinct
        return len(idx[0])
    return int(len(pd.unique(np.concatenate(idx)))) if idx else 0  # (np.unique sorts; this hashes)


def eval_pair(rule: Rule, ctx: Context) -> Hits:
    frame = ctx.frame(rule.over)
    ok = applicable(rule, ctx)
    n = len(frame)
    missing: dict = {}
    # Lookups of a pair rule join one side's row each (`side: a|b`); a row without the table
    # version it needs is not checked on that side.
    side_refs: dict[str, dict[str, pd.DataFrame]] = {"a": {}, "b": {}}
    side_ok = {"a": np.ones(n, dtype=bool), "b": np.ones(n, dtype=bool)}
    for lk in rule.lookups:
        j = ctx.lookup(rule.over, lk)
        side_refs[lk.side][lk.alias] = j  # a Joined: columns are built as they are read
        side_ok[lk.side] &= j.checked
        if (ok & ~j.checked).any():
            missing[lk.table] = frame["service_date"][ok & ~j.checked]
    a_ok, b_ok = ok & side_ok["a"], ok & side_ok["b"]
    if rule.left is not None and a_ok.any():
        a_ok &= mask(rule.left, Env({None: frame, **side_refs["a"]}, n, ctx.as_of, rule.id))
    if rule.right is not None and b_ok.any():
        b_ok &= mask(rule.right, Env({None: frame, **side_refs["b"]}, n, ctx.as_of, rule.id))
    if a_ok.any() and b_ok.any():
        g = ctx.gids(rule.over, rule.scope)
        a_ok &= g >= 0
        b_ok &= g >= 0
    else:  # no pair possible: no need to group the rows (the scope is still checked, as gids would)
        absent = [c for c in rule.scope if c not in frame.columns]
        if absent:
            raise RuleError(f"scope column(s) {', '.join(absent)} are not available over {rule.over}")
        g = np.full(n, -1, dtype=np.int64)
        a_ok &= False
        b_ok &= False
    a_rows, b_rows = np.flatnonzero(a_ok), np.flatnonzero(b_ok)
    pieces = []
    if rule.join is not None:
        for vid, table, m in _pairs_via_table(rule, ctx, frame, a_rows, b_rows, g[a_rows], g[b_rows], missing):
            # (only the table columns the condition and the messages read: a PTP row has long text)
            ref = take_rows(table, m["_t"].to_numpy(), env_columns(rule, table, "ref"))
            ref["_version"] = vid
            pieces.append((m["_a"].to_numpy(), m["_b"].to_numpy(), ref))
    else:
        a = pd.DataFrame({"_a": a_rows, "_g": g[a_rows]})
        b = pd.DataFrame({"_b": b_rows, "_g": g[b_rows]})
        m = a.merge(b, on="_g")
        m = m[m["_a"].to_numpy() != m["_b"].to_numpy()]
        pieces.append((m["_a"].to_numpy(), m["_b"].to_numpy(), None))

    def side_env(ra: np.ndarray, rb: np.ndarray) -> dict:
        # Only the columns the condition and the message read (a pair table holds many rows).
        env = {"a": take_rows(frame, ra, env_columns(rule, frame, "a")),
               "b": take_rows(frame, rb, env_columns(rule, frame, "b"))}
        env.update({alias: take_rows(r, ra, env_columns(rule, r, alias, ("found", "_version")))
                    for alias, r in side_refs["a"].items()})
        env.update({alias: take_rows(r, rb, env_columns(rule, r, alias, ("found", "_version")))
                    for alias, r in side_refs["b"].items()})
        return env

    hit_a, hit_b, hit_ref = [], [], []
    for ra, rb, ref in pieces:
        if len(ra) == 0:
            continue
        sub = side_env(ra, rb)
        if ref is not None:
            sub["ref"] = ref
        hit = mask(rule.when, Env(sub, len(ra), ctx.as_of, rule.id))
        if not hit.any():
            continue
        hit_a.append(ra[hit])
        hit_b.append(rb[hit])
        hit_ref.append(ref[hit].reset_index(drop=True) if ref is not None else None)
    not_checked = _missing_count(missing)
    if not hit_a:
        return Hits(rule.over, np.array([], dtype=np.int64), {None: frame.iloc[:0], "a": frame.iloc[:0],
                    "b": frame.iloc[:0]}, np.array([], dtype=np.int64), rule.over == "diagnoses",
                    int(np.count_nonzero(ok)), not_checked, missing)
    ra, rb = np.concatenate(hit_a), np.concatenate(hit_b)
    ref = pd.concat(hit_ref, ignore_index=True) if rule.join is not None else None
    if rule.unordered:
        # (x, y) and (y, x) are one pair: orient each as (earlier row, later row).
        ra, rb = np.minimum(ra, rb), np.maximum(ra, rb)
    rows = rb if rule.flag == "b" else ra
    # One finding per flagged row: the first partner found explains it.
    keep = np.flatnonzero(~pd.Series(rows).duplicated().to_numpy())
    ra, rb, rows = ra[keep], rb[keep], rows[keep]
    rel = ra if rule.flag == "b" else rb
    env = side_env(ra, rb)
    if ref is not None:
        env["ref"] = ref.iloc[keep].reset_index(drop=True)
    env[None] = take_rows(frame, rows)
    if rule.over == "diagnoses":
        rel = np.full(len(rows), -1)
    return Hits(rule.over, rows, env, rel, rule.over == "diagnoses", int(np.count_nonzero(ok)), not_checked, missing)


def _agg(node: Func, env: Env, gid: np.ndarray, ngroups: int) -> pd.Series:
    name = node.name[4:]
    if name == "count" and not node.args:
        return pd.Series(np.bincount(gid, minlength=ngroups).astype("float64"))
    vals = as_series(evaluate(node.args[0], env), env.n)
    if name in ("count", "any", "all"):
        b = to_bool(vals, env.n).to_numpy(dtype=bool, na_value=False)
        if name == "count":
            return pd.Series(np.bincount(gid, weights=b, minlength=ngroups))
        if name == "any":
            return pd.Series(np.bincount(gid, weights=b, minlength=ngroups) > 0)
        return pd.Series(np.bincount(gid, weights=~b, minlength=ngroups) == 0)
    if name == "sum" and vals.dtype == np.float64:
        v = vals.to_numpy()
        has = ~np.isnan(v)
        w = v[has]
        if len(w) == 0 or ((w == np.round(w)).all() and np.abs(w).sum() < 2 ** 52):
            # Whole numbers (units): a weighted bincount sums them exactly, as the groupby would.
            total = np.bincount(gid[has], weights=w, minlength=ngroups)
            return pd.Series(np.where(np.bincount(gid[has], minlength=ngroups) > 0, total, np.nan))
    grouped = vals.groupby(gid)
    res = {"sum": lambda: grouped.sum(min_count=1), "min": grouped.min, "max": grouped.max,
           "nunique": grouped.nunique}[name]()
    return res.reindex(range(ngroups)).reset_index(drop=True)


def eval_aggregate(rule: Rule, ctx: Context) -> Hits:
    frame = ctx.frame(rule.over)
    ok = applicable(rule, ctx)
    refs, checked, missing = _lookups(rule, ctx, ok, rule.over)
    todo = np.flatnonzero(ok & checked)
    gid = ctx.group_ids(rule.over, rule.group_by, todo)  # -1 where a key is empty
    valid = gid >= 0
    todo, gid = todo[valid], gid[valid]
    # Columns are taken where they are read: the measures' (and flag_where's) over the rows, the
    # condition's over one row per group, the message's over the flagged rows only.
    keep = ("found", "_version")
    shadow = tuple(c for c in rule.measures if c in frame.columns)  # named like a measure: shadowed
    extra = (*rule.measures.values(), rule.flag_where)
    row_parts = tuple(x for x in extra if x is not None)
    sub = take_rows(frame, todo, env_columns(rule, frame, None, (), parts=row_parts))
    ngroups = int(gid.max()) + 1 if len(gid) else 0
    row_env = Env({None: sub, **{a: take_rows(r, todo, env_columns(rule, r, a, parts=row_parts))
                                 for a, r in refs.items()}}, len(todo), ctx.as_of, rule.id)
    measures = {name: _agg(node, row_env, gid, ngroups) for name, node in rule.measures.items()}
    first_pos = np.full(ngroups, len(gid), dtype=np.int64)
    np.minimum.at(first_pos, gid, np.arange(len(gid)))  # first row of each group (ids follow first appearance)
    first_rows = todo[first_pos]
    group_rows = take_rows(frame, first_rows, env_columns(rule, frame, None, shadow, parts=(rule.when,)))
    for name, values in measures.items():
        group_rows[name] = values.to_numpy()
    genv = {None: group_rows, **{a: take_rows(r, first_rows, env_columns(rule, r, a, parts=(rule.when,)))
                                 for a, r in refs.items()}}
    hit_groups = np.flatnonzero(mask(rule.when, Env(genv, ngroups, ctx.as_of, rule.id)))
    claim_level = rule.flag == "group"
    full = env_columns(rule, frame, None, shadow, extra)
    if claim_level:
        rows = todo[first_pos[hit_groups]]
        grp = take_rows(frame, rows, full)
        for name, values in measures.items():
            grp[name] = values.to_numpy()[hit_groups]
        env = {None: grp, **{a: take_rows(r, rows, env_columns(rule, r, a, keep, extra)) for a, r in refs.items()}}
    else:
        is_hit = np.zeros(ngroups, dtype=bool)
        is_hit[hit_groups] = True
        in_hit = is_hit[gid]
        if rule.flag_where is not None and in_hit.any():
            in_hit &= mask(rule.flag_where, row_env)
        pos = np.flatnonzero(in_hit)
        if rule.flag in ("first", "last"):
            s = pd.Series(pos).groupby(gid[pos])
            pos = (s.first() if rule.flag == "first" else s.last()).to_numpy()
        rows = todo[pos]
        gpos = gid[pos]
        env = {a: take_rows(r, first_rows[gpos], env_columns(rule, r, a, keep, extra)) for a, r in refs.items()}
        per_group = pd.DataFrame(index=pd.RangeIndex(ngroups))
        for name, values in measures.items():
            per_group[name] = values.to_numpy()
        line_vals = take_rows(frame, rows, full)
        env[None] = pd.concat([line_vals, per_group.iloc[gpos].reset_index(drop=True)], axis=1)
    return Hits(rule.over, rows, env, None, claim_level or rule.over == "diagnoses", int(np.count_nonzero(ok)),
                int(np.count_nonzero(ok & ~checked)), missing)


def _mixed_key(parts: list[tuple[np.ndarray, int]], rows: np.ndarray) -> np.ndarray | None:
    """One int64 per row of `rows` for its combination of codes (all present), or None if it would not fit."""
    key = np.zeros(len(rows), dtype=np.int64)
    span = 1
    for codes, card in parts:
        card = max(int(card), 1)
        if span * card >= 2 ** 62:
            return None
        key = key * card + codes[rows]
        span *= card
    return key


def eval_duplicate(rule: Rule, ctx: Context) -> Hits:
    frame = ctx.frame(rule.over)
    ok = applicable(rule, ctx)
    ids = []
    for k in rule.keys:
        if k == "modifiers":
            if "modifier_1" not in frame.columns:
                raise RuleError(f"rule {rule.id}: 'modifiers' is a key only over lines")
            ids.append((ctx.modifier_set_ids(rule.over), None))
        else:
            codes, uniques = ctx.codes(rule.over, k)
            ok &= codes >= 0  # the key is present
            ids.append((codes, len(uniques)))
    # Only rows that share their keys with another row can be duplicates, and only those are
    # grouped and ordered (most lines are unique).
    parts = [(c, int(c.max(initial=-1)) + 1 if card is None else card) for c, card in ids]
    todo_all = np.flatnonzero(ok)
    key = _mixed_key(parts, todo_all) if ids else None
    if key is not None:
        # One integer per key combination; repeated ones found by a sort (cheaper than numbering
        # every row's combination when nearly all are distinct).
        s = np.sort(key)
        repeated = np.unique(s[1:][s[1:] == s[:-1]])
        shared = pd.Index(repeated).get_indexer(key) >= 0 if len(repeated) else np.zeros(len(key), dtype=bool)
        todo = todo_all[shared]
        keys = pd.DataFrame({"_gid": dense_ids(key[shared])})
    else:
        gid_all = combine_codes(parts) if ids else np.zeros(len(frame), dtype=np.int64)
        g = gid_all[todo_all]
        size = np.bincount(g, minlength=int(gid_all.max(initial=-1)) + 1) if len(g) else np.zeros(0, dtype=np.int64)
        todo = todo_all[size[g] >= 2] if len(g) else todo_all
        keys = pd.DataFrame({"_gid": gid_all[todo]})
    # Earliest submitted claim first: the later copy is the duplicate.
    order_cols = {"_recv": frame["received_date"].iloc[todo].to_numpy(),
                  "_claim": frame["claim_id"].iloc[todo].astype(object).to_numpy(),
                  "_line": frame["line_number"].iloc[todo].to_numpy() if "line_number" in frame else todo,
                  "_row": todo}
    keys = keys.assign(**order_cols).sort_values(["_recv", "_claim", "_line", "_row"], na_position="last",
                                                 kind="stable")
    gid = keys["_gid"].to_numpy()
    dup = pd.Series(gid).duplicated().to_numpy()
    first_of = pd.Series(keys["_row"].to_numpy()).groupby(gid).transform("first").to_numpy()
    rows = keys["_row"].to_numpy()[dup]
    firsts = first_of[dup]
    env = {None: take_rows(frame, rows), "first": take_rows(frame, firsts)}
    if rule.when is not None and len(rows):
        hit = mask(rule.when, Env(env, len(rows), ctx.as_of, rule.id))
        rows, firsts = rows[hit], firsts[hit]
        env = {k: v[hit].reset_index(drop=True) for k, v in env.items()}
    related = firsts if rule.over == "lines" else np.full(len(rows), -1)
    return Hits(rule.over, rows, env, related, rule.over == "diagnoses", int(np.count_nonzero(ok)), 0, {})


def _joined_list(values: pd.Series, by: np.ndarray, limit: int = 8) -> pd.Series:
    """Sorted distinct values per group as text ('A, B, C'), at most `limit` then ' …' (vectorized)."""
    df = pd.DataFrame({"g": np.asarray(by), "v": values.to_numpy(dtype=object)})
    df = df[pd.notna(df["v"]).to_numpy()]
    if df.empty:
        return pd.Series([], dtype=object)
    df["v"] = df["v"].astype(str)
    df = df.drop_duplicates().sort_values(["g", "v"], kind="stable")
    size = df.groupby("g", sort=True).size()
    df["k"] = df.groupby("g", sort=False).cumcount().to_numpy()
    wide = df[df["k"] < limit].pivot(index="g", columns="k", values="v").reindex(size.index)
    text = wide[0].astype(object)
    for k in wide.columns[1:]:
        col = wide[k]
        text = text.where(col.isna(), text + ", " + col.fillna(""))
    more = (size > limit).to_numpy()
    return text.where(~more, text + " …")


def eval_requires(rule: Rule, ctx: Context) -> Hits:
    """Rows whose table entries name partners (e.g. an add-on's primaries) with none in scope.

    ``flag_when: all_listed`` turns it round: rows whose partners in scope are all listed (and
    there is at least one), e.g. a procedure whose diagnoses are all on a non-covered list.
    """
    frame = ctx.frame(rule.over)
    pframe = ctx.frame(rule.partner_over)
    ok = applicable(rule, ctx)
    refs, checked, missing = _lookups(rule, ctx, ok, rule.over)
    join, key = rule.join, rule.default_key
    pkey = "code" if rule.partner_over == "diagnoses" else "procedure_code"
    p_ok = np.ones(len(pframe), dtype=bool)
    if rule.partner_where is not None:
        p_ok &= mask(rule.partner_where, Env({None: pframe}, len(pframe), ctx.as_of, rule.id))
    rows_all = np.flatnonzero(ok & checked)
    _, vcodes, vuniq = ctx.version_codes(rule.over, join.table)
    vcodes = vcodes[rows_all]  # the version in effect per row, as an integer (-1 = none)
    has = vcodes >= 0
    if has.any():  # scope groups and partners are only needed where a table version is in effect
        ga, gb = ctx.shared_gids(rule.over, rule.partner_over, rule.scope)
        pcodes, puniq = ctx.codes(rule.partner_over, pkey)
        puniq = np.asarray(puniq, dtype=object)
        p_ok &= (gb >= 0) & (pcodes >= 0)  # partners with a scope and a code
        p_rows = np.flatnonzero(p_ok)
        p = pd.DataFrame({"_p": p_rows, "_g": gb[p_rows]})  # (their codes: puniq[pcodes[_p]])
        ngroups = int(max(ga.max(initial=-1), gb.max(initial=-1))) + 1
        partners_in_group = np.bincount(p["_g"].to_numpy(), minlength=ngroups)
    else:  # (the scope is still checked, as shared_gids would)
        absent = [c for c in rule.scope if c not in frame.columns or c not in pframe.columns]
        if absent:
            where = rule.over if rule.over == rule.partner_over else f"{rule.over}/{rule.partner_over}"
            raise RuleError(f"scope column(s) {', '.join(absent)} are not available over {where}")
    if (~has).any():
        missing[join.table] = frame["service_date"].iloc[rows_all[~has]]
    flagged, envs = [], []
    for vcode in pd.unique(vcodes[has]):  # versions in order of first appearance
        vid = vuniq[vcode]
        rows = rows_all[vcodes == vcode]
        table = ctx.table(join.table, vid)
        ctx.note_version(join.table, vid, len(rows))
        for c in (join.left, join.right):
            if c not in table.columns:
                raise RuleError(f"rule {rule.id}: table '{join.table}' has no column '{c}'")
        table = ctx.filtered_table(join.table, vid, join.where, rule.id).reset_index(drop=True)
        t = table.assign(_t=np.arange(len(table)))
        # Joins on integer codes (the run's encodings of the rows' and partners' codes) when the
        # table has no empty keys; otherwise on the values themselves (an empty key matches empty).
        coded = not table[join.left].isna().any() and not table[join.right].isna().any()
        if coded:  # only rows whose code is a table entry can match
            rcodes, runiq = ctx.codes(rule.over, key)
            tk = table_keys(table, join.left, pd.Index(runiq, dtype=object))
            listed = np.zeros(len(runiq), dtype=bool)
            listed[tk[tk >= 0]] = True
            rows = rows[by_code(listed, rcodes[rows], False)]
            a = pd.DataFrame({"_a": rows, "_kc": rcodes[rows], "_g": ga[rows],
                              "_d": frame["service_date"].iloc[rows].to_numpy()})
            t["_kc"] = tk
            m = a.merge(t[tk >= 0], on="_kc")
        else:
            a = pd.DataFrame({"_a": rows, "_k": frame[key].iloc[rows].astype(object).to_numpy(), "_g": ga[rows],
                              "_d": frame["service_date"].iloc[rows].to_numpy()})
            m = a.merge(t, left_on="_k", right_on=join.left)
        if join.dated_by is not None and len(m):
            m = m[in_windows(m, m["_d"], join.windows)]
        if m.empty:
            continue
        needs = m["_a"].unique()
        # Only partners in the scope groups of these rows can match (dropping the others keeps the
        # merge's order: the left rows', then the right rows' as they were).
        in_groups = np.zeros(ngroups, dtype=bool)
        mg = m["_g"].to_numpy()
        in_groups[mg[mg >= 0]] = True  # (a row without a scope has no partner)
        pm = p[in_groups[p["_g"].to_numpy()]]
        if coded:
            m["_rc"] = table_keys(table, join.right, pd.Index(puniq, dtype=object))[m["_t"].to_numpy()]
            sat = m.merge(pm.assign(_rc=pcodes[pm["_p"].to_numpy()]), on=["_g", "_rc"])
        else:
            pm = pm.assign(_pk=puniq[pcodes[pm["_p"].to_numpy()]])
            sat = m.merge(pm, left_on=["_g", join.right], right_on=["_g", "_pk"])
        if rule.over == rule.partner_over:
            sat = sat[sat["_a"] != sat["_p"]]
        if rule.flag_when == "none_listed":
            bad = np.setdiff1d(needs, sat["_a"].unique())
        else:
            listed = sat.drop_duplicates(["_a", "_p"]).groupby("_a").size()
            n_listed = listed.reindex(needs, fill_value=0).to_numpy()
            in_scope = partners_in_group[ga[needs]]
            if rule.over == rule.partner_over:  # the row is not its own partner
                in_scope = in_scope - np.isin(needs, p["_p"].to_numpy())
            bad = needs[(in_scope > 0) & (n_listed == in_scope)]
        if not len(bad):
            continue
        mm = m[m["_a"].isin(bad)]
        entries = _joined_list(mm[join.right], mm["_a"].to_numpy())
        first = mm.drop_duplicates("_a").set_index("_a").loc[bad]
        ref = first[[c for c in table.columns]].reset_index(drop=True)
        ref[join.right + "_list"] = entries.reindex(bad).fillna("").to_numpy()
        pp = p[np.isin(p["_g"].to_numpy(), ga[bad])]
        in_scope_codes = _joined_list(pd.Series(puniq[pcodes[pp["_p"].to_numpy()]], dtype=object),
                                      pp["_g"].to_numpy())
        ref["partner_list"] = in_scope_codes.reindex(ga[bad]).fillna("").to_numpy()
        ref["_version"] = vid
        flagged.append(bad)
        envs.append({None: take_rows(frame, bad), "ref": ref, **{al: take_rows(r, bad) for al, r in refs.items()}})
    if rule.when is not None:
        for i, e in enumerate(envs):
            h = mask(rule.when, Env(e, len(flagged[i]), ctx.as_of, rule.id))
            flagged[i] = flagged[i][h]
            envs[i] = {k: v[h].reset_index(drop=True) for k, v in e.items()}
    not_checked = _missing_count(missing)
    if not flagged:
        return Hits(rule.over, np.array([], dtype=np.int64), {None: frame.iloc[:0], "ref": pd.DataFrame()},
                    None, rule.over == "diagnoses", int(np.count_nonzero(ok)), not_checked, missing)
    rows = np.concatenate(flagged)
    env = {k: pd.concat([e[k] for e in envs], ignore_index=True) for k in envs[0]}
    return Hits(rule.over, rows, env, None, rule.over == "diagnoses", int(np.count_nonzero(ok)), not_checked, missing)


def eval_frequency(rule: Rule, ctx: Context) -> Hits:
    """Count each member's earlier services of a code within the limit's period (or lifetime)."""
    from auditor.rules.model import Lookup

    frame = ctx.frame(rule.over)
    ok = applicable(rule, ctx)
    lk = Lookup(rule.table, "ref", ((rule.default_key, "code"),))
    j = ctx.lookup(rule.over, lk)
    missing = {rule.table: frame["service_date"][ok & ~j.checked]} if (ok & ~j.checked).any() else {}
    found = j.ref["found"].to_numpy(dtype=bool, na_value=False)
    sel = np.flatnonzero(ok & j.checked & found & frame["service_date"].notna().to_numpy())
    for c in rule.group_by:
        sel = sel[frame[c].iloc[sel].notna().to_numpy()]
    if not len(sel):
        return Hits(rule.over, sel, {None: frame.iloc[:0], "ref": j.ref.iloc[:0]}, None, False,
                    int(np.count_nonzero(ok)), int(np.count_nonzero(ok & ~j.checked)), missing)
    sub = frame.iloc[sel]
    gid = sub.groupby(list(rule.group_by), sort=False).ngroup().to_numpy().astype(np.int64)
    days = (sub["service_date"].to_numpy().astype("datetime64[D]").astype(np.int64))
    order = np.lexsort((sel, days, gid))
    gid_s, days_s, rows_s = gid[order], days[order], sel[order]
    period = j.ref["period_days"].iloc[rows_s].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    limit = j.ref["max_count"].iloc[rows_s].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    # A sortable key per (group, day); the window start for each row is found by binary search,
    # so "services in the last N days" is counted for all rows at once.
    span = int(days_s.max() - days_s.min() + 400000) if len(days_s) else 1
    base = gid_s * span + (days_s - days_s.min())
    lifetime = np.isnan(period)
    lo_days = np.where(lifetime, -10 ** 9, days_s - np.nan_to_num(period, nan=0) + 1)
    lo_key = gid_s * span + np.maximum(lo_days - days_s.min(), 0)
    lo_key = np.where(lifetime, gid_s * span, lo_key)
    start = np.searchsorted(base, lo_key, side="left")
    prior = np.arange(len(base)) - start
    hit = prior >= limit
    rows = rows_s[hit]
    env_line = take_rows(frame, rows)
    env_line["prior_count"] = prior[hit].astype(float)
    first_day = days_s[start[hit]].astype("datetime64[D]")
    env_line["window_start"] = pd.to_datetime(first_day)
    env = {None: env_line, "ref": take_rows(j.ref, rows)}
    return Hits(rule.over, rows, env, None, False, int(np.count_nonzero(ok)),
                int(np.count_nonzero(ok & ~j.checked)), missing)


EVALUATORS = {
    "line": eval_line,
    "pair": eval_pair,
    "aggregate": eval_aggregate,
    "claim": eval_aggregate,
    "duplicate": eval_duplicate,
    "requires": eval_requires,
    "frequency": eval_frequency,
}
