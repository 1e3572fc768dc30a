"""Each rule kind over one unit of claim lines, as plain Python over dict rows.

A kind is split in two so that the condition can be decided by either engine: ``plan_*`` joins
the reference data and builds the *candidates* (one environment per line, pair, group ...) and
``Plan.finish`` turns the candidates whose condition held into hits. Every step mirrors
:mod:`auditor.engine.kinds` (same candidates, same order, same "first partner" choices), so both
engines give the batch engine's findings.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from auditor.claims.columns import DX_COLUMNS
from auditor.engine.context import DX_FRAME_COLUMNS
from auditor.engine.perclaim.index import RefIndex, day, frequency_lookup
from auditor.engine.perclaim.values import TODAY, Compiler, truth
from auditor.errors import RuleError
from auditor.rules.expr import Col, Op
from auditor.rules.model import Lookup, Rule


@dataclass
class Hit:
    row: dict                 # the line (or diagnosis row) the finding is about
    env: dict                 # namespaces for the message, evidence and subject
    related: dict | None = None


@dataclass
class Plan:
    rule: "CompiledRule"
    envs: list[dict]                                  # one environment per candidate
    finish: Callable[[list[bool]], list[Hit]]         # decided candidates -> hits
    claim_level: bool = False
    applicable: int = 0
    not_checked: int = 0
    missing: dict = field(default_factory=dict)       # table kind -> dates that had no data
    shared: list | None = None                        # line kind: the row each candidate is about
    inputs: dict = field(default_factory=dict)        # requires_columns left empty: {column: rows, ...}


class CompiledRule:
    """A rule with its expressions compiled once (closures) for the per-claim engines."""

    def __init__(self, rule: Rule, refs: RefIndex):
        c = Compiler(rule.id)
        self.rule = rule
        # (lookup, index id) of each lookup; the id keys the unit's cache and the indexes
        self.lookups = [(lk, refs.id_of(lk)) for lk in rule.lookups]
        self.freq_lookup = (frequency_lookup(rule), refs.id_of(frequency_lookup(rule))) \
            if rule.kind == "frequency" else None
        self.join_id = refs.id_of(rule.join) if rule.join is not None else None
        self.compiler = c
        self.where = c.condition(rule.where) if rule.where is not None else None
        self.left = c.condition(rule.left) if rule.left is not None else None
        self.right = c.condition(rule.right) if rule.right is not None else None
        self.partner_where = c.condition(rule.partner_where) if rule.partner_where is not None else None
        self.flag_where = c.condition(rule.flag_where) if rule.flag_where is not None else None
        # the condition decided per candidate: frequency rules compare the count with the table's limit
        if rule.kind == "frequency":
            self.cond_node = Op(">=", (Col(None, "prior_count"), Col("ref", "max_count")))
        else:
            self.cond_node = rule.when
        self.when = c.condition(self.cond_node)
        self.measures = {name: (node.name[4:], c.compile(node.args[0]) if node.args else None)
                         for name, node in rule.measures.items()}
        self.message = c.template(rule.message_parts)
        self.evidence = c.template(rule.evidence_parts) if rule.evidence else None


# -- the unit: the lines evaluated together ---------------------------------------------------------

def _sort_none_last(v):
    return (v is None, v if v is not None else 0)


class Unit:
    """The lines of one request (or of one member in file mode), with what rules share."""

    def __init__(self, lines: list[dict], today: date, refs: RefIndex):
        self.lines, self.today, self.refs = lines, today, refs
        self._dx: list[dict] | None = None
        self._lookups: dict = {}
        self.versions_used: dict[tuple[str, str], int] = {}

    def frame(self, over: str) -> list[dict]:
        return self.lines if over == "lines" else self.diagnoses

    @property
    def diagnoses(self) -> list[dict]:
        """One row per (claim, diagnosis position), as Context.diagnoses builds it."""
        if self._dx is None:
            valid = [r for r in self.lines if r["claim_id"] is not None]
            order = sorted(valid, key=lambda r: (r["claim_id"], _sort_none_last(r["line_number"]), r["_row"]))
            firsts: dict = {}
            for r in order:
                firsts.setdefault(r["claim_id"], r)
            dates: dict = {}
            charges: dict = {}
            for r in valid:
                cid = r["claim_id"]
                d = r["service_date"]
                if d is not None and (dates.get(cid) is None or d < dates[cid]):
                    dates[cid] = d
                if r["charge"] is not None:
                    charges.setdefault(cid, []).append(r["charge"])
            out = []
            for pos, col in enumerate(DX_COLUMNS, start=1):
                for cid, first in firsts.items():
                    code = first[col]
                    if code is None:
                        continue
                    row = {c: first[c] for c in DX_FRAME_COLUMNS if c not in ("service_date", "charge")}
                    row["service_date"] = dates.get(cid)
                    row["charge"] = math.fsum(charges.get(cid, ()))
                    row["code"] = code
                    row["position"] = pos
                    row["line_number"] = None
                    row["procedure_code"] = None
                    out.append(row)
            out.sort(key=lambda r: (r["_row"], r["position"]))
            self._dx = out
        return self._dx

    def note_version(self, kind: str, vid: str, rows: int) -> None:
        self.versions_used[(kind, vid)] = self.versions_used.get((kind, vid), 0) + rows

    def lookup(self, over: str, lk: Lookup, lid: int) -> tuple[list[dict], list[bool]]:
        """Every row of a frame joined with the table version in effect on its date (Context.lookup)."""
        key = (over, lid)
        hit = self._lookups.get(key)
        if hit is not None:
            return hit
        rows = self.frame(over)
        clock = self.refs.clock(lk.table)
        vids = [clock(r["service_date"]) for r in rows]
        checked = [v is not None for v in vids]
        forced = lk.optional and not any(checked)  # no such table: every row uses the rule's defaults
        if forced:
            checked = [True] * len(rows)
        for a, _ in lk.on:
            for r in rows:
                if a not in r:
                    raise RuleError(f"lookup: no column '{a}' to join '{lk.table}' on")
        cols = [a for a, _ in lk.on]
        single = cols[0] if len(cols) == 1 else None
        counts: dict = {}
        refs = []
        for r, vid in zip(rows, vids):
            if vid is None:
                refs.append(self.refs.null_row(lk.table, None, False if forced else None))
                continue
            counts[vid] = counts.get(vid, 0) + 1
            index = self.refs.lookups[(lid, vid)]
            keyval = r[single] if single is not None else tuple(r[a] for a in cols)
            t = None if keyval is None or (single is None and None in keyval) \
                else index.find(keyval, r["service_date"])
            refs.append(self.refs.null_row(lk.table, vid, False) if t is None else index.ref_row(t, vid))
        for vid, n in counts.items():
            self.note_version(lk.table, vid, n)
        self._lookups[key] = (refs, checked)
        return refs, checked


def in_scope(cr: CompiledRule, rows: list[dict], today: date) -> list[bool]:
    """Rows the rule applies to: claim type, effective dates, its `where` filter (kinds.in_scope)."""
    rule = cr.rule
    at, lo, hi, where = rule.applies_to, rule.effective_from, rule.effective_to, cr.where
    out = []
    for r in rows:
        if at != "all" and r["claim_type"] != at:
            out.append(False)
            continue
        d = r["service_date"]
        if (lo is not None and (d is None or d < lo)) or (hi is not None and (d is None or d > hi)):
            out.append(False)
            continue
        out.append(where is None or where({None: r, TODAY: today}))
    return out


def applicable(cr: CompiledRule, rows: list[dict], today: date, plan_inputs: dict | None = None) -> list[bool]:
    """In scope and every `requires_columns` input present; tallies the inputs that were empty."""
    ok = in_scope(cr, rows, today)
    need = cr.rule.requires_columns
    if not need:
        return ok
    out = []
    for r, inside in zip(rows, ok):
        lacking = []
        for c in need:
            if c not in r:
                raise RuleError(f"rule {cr.rule.id}: requires_columns names unknown column(s) {c}")
            if r[c] is None:
                lacking.append(c)
        if inside and lacking and plan_inputs is not None:
            for c in lacking:
                plan_inputs[c] = plan_inputs.get(c, 0) + 1
            plan_inputs["_rows"] = plan_inputs.get("_rows", 0) + 1
            plan_inputs.setdefault("_claim_ids", set()).add(r["claim_id"])
        out.append(inside and not lacking)
    return out


def _scope_key(r: dict, scope: tuple[str, ...], over: str):
    try:
        key = tuple(r[c] for c in scope)
    except KeyError:
        missing = [c for c in scope if c not in r]
        raise RuleError(f"scope column(s) {', '.join(missing)} are not available over {over}") from None
    return None if None in key else key


def _joined_list(values) -> str:
    """Sorted distinct values as text ('A, B, C'), at most eight then ' …' (kinds._joined_list)."""
    u = sorted({str(v) for v in values if v is not None})
    return ", ".join(u[:8]) + (" …" if len(u) > 8 else "")


def _join_lookups(cr: CompiledRule, unit: Unit, rows: list[dict], ok: list[bool], missing: dict):
    """Each lookup of the rule over its frame; returns [(lookup, refs, checked)] and all-checked flags."""
    joined, checked = [], [True] * len(rows)
    for lk, lid in cr.lookups:
        refs, chk = unit.lookup(cr.rule.over, lk, lid)
        joined.append((lk, refs, chk))
        lost = [(i, rows[i]["service_date"]) for i in range(len(rows)) if ok[i] and not chk[i]]
        if lost:
            missing[lk.table] = lost
        checked = [a and b for a, b in zip(checked, chk)]
    return joined, checked


def _plan(cr, envs, finish, claim_level, applicable_rows, not_checked, missing, inputs, shared=None):
    return Plan(cr, envs, finish, claim_level, applicable_rows, not_checked,
                {k: [d for _, d in v] for k, v in missing.items()}, shared, inputs)


# -- line ---------------------------------------------------------------------------------------------

def plan_line(cr: CompiledRule, unit: Unit) -> Plan:
    rule, today = cr.rule, unit.today
    rows = unit.frame(rule.over)
    inputs: dict = {}
    ok = applicable(cr, rows, today, inputs)
    missing: dict = {}
    joined, checked = _join_lookups(cr, unit, rows, ok, missing)
    envs, cand = [], []
    for i, r in enumerate(rows):
        if ok[i] and checked[i]:
            env = {None: r, TODAY: today}
            for lk, refs, _ in joined:
                env[lk.alias] = refs[i]
            envs.append(env)
            cand.append(i)

    def finish(decided):
        return [Hit(rows[i], env) for i, env, d in zip(cand, envs, decided) if d]

    n_ok = sum(ok)
    return _plan(cr, envs, finish, rule.over == "diagnoses", n_ok, n_ok - len(cand), missing, inputs,
                 [(rule.over, i) for i in cand])


# -- pair ---------------------------------------------------------------------------------------------

def _prefix_entries(rows: list[dict], idx: list[int], key: str) -> list[tuple[int, str]]:
    """Each code with its prefixes of 3..7 characters, ordered by length then row (as kinds._prefixes)."""
    texts = {i: ("" if rows[i][key] is None else str(rows[i][key])) for i in idx}
    return [(i, texts[i][:n]) for n in range(3, 8) for i in idx if len(texts[i]) >= n]


def plan_pair(cr: CompiledRule, unit: Unit) -> Plan:
    rule, today = cr.rule, unit.today
    rows = unit.frame(rule.over)
    n = len(rows)
    inputs: dict = {}
    ok = applicable(cr, rows, today, inputs)
    missing: dict = {}
    # lookups of a pair rule join one side's row each (side: a|b)
    sides: dict[str, list] = {"a": [], "b": []}
    side_ok = {"a": [True] * n, "b": [True] * n}
    for lk, lid in cr.lookups:
        refs, chk = unit.lookup(rule.over, lk, lid)
        sides[lk.side].append((lk.alias, refs))
        side_ok[lk.side] = [x and y for x, y in zip(side_ok[lk.side], chk)]
        lost = [(i, rows[i]["service_date"]) for i in range(n) if ok[i] and not chk[i]]
        if lost:
            missing[lk.table] = lost

    def side_env(i: int, side: str) -> dict:
        env = {None: rows[i], TODAY: today}
        for alias, refs in sides[side]:
            env[alias] = refs[i]
        return env

    g = [_scope_key(r, rule.scope, rule.over) for r in rows]
    a_rows = [i for i in range(n) if ok[i] and side_ok["a"][i] and g[i] is not None
              and (cr.left is None or cr.left(side_env(i, "a")))]
    b_rows = [i for i in range(n) if ok[i] and side_ok["b"][i] and g[i] is not None
              and (cr.right is None or cr.right(side_env(i, "b")))]
    key = rule.default_key
    pairs: list[tuple[int, int, dict | None]] = []   # (a, b, ref row) in the batch engine's merge order
    join = rule.join
    if join is not None:
        clock = unit.refs.clock(join.table)
        vid_of = {b: clock(rows[b]["service_date"]) for b in b_rows}
        lost = [(b, rows[b]["service_date"]) for b in b_rows if vid_of[b] is None]
        if lost:
            missing[join.table] = lost
        order = list(dict.fromkeys(v for v in (vid_of[b] for b in b_rows) if v is not None))
        for vid in order:
            bsel = [b for b in b_rows if vid_of[b] == vid]
            unit.note_version(join.table, vid, len(bsel))
            pidx = unit.refs.pairs[(cr.join_id, vid)]
            if join.match == "prefix":
                a_ent, b_ent = _prefix_entries(rows, a_rows, key), _prefix_entries(rows, bsel, key)
            else:
                a_ent = [(a, rows[a][key]) for a in a_rows]
                b_ent = [(b, rows[b][key]) for b in bsel]
            b_by: dict = {}
            for b, kb in b_ent:
                if kb is not None:
                    b_by.setdefault((g[b], kb), []).append(b)
            b_keys: dict = {}
            for gk, kb in b_by:
                b_keys.setdefault(gk, set()).add(kb)
            seen = set()
            for a, ka in a_ent:
                rights = pidx.by_left.get(ka) if ka is not None else None
                if not rights:
                    continue
                # the merge lists, per a, the table rows in table order, then the b rows in row order
                ts = sorted(t for kb in b_keys.get(g[a], ()) for t in rights.get(kb, ()))
                for t in ts:
                    for b in b_by[(g[a], pidx.right_of[t])]:
                        if a == b or (a, b, t) in seen or not pidx.in_effect(t, rows[b]["service_date"]):
                            continue
                        seen.add((a, b, t))
                        ref = pidx.table.row(t)
                        ref["_version"] = vid
                        pairs.append((a, b, ref))
    else:
        by_g: dict = {}
        for b in b_rows:
            by_g.setdefault(g[b], []).append(b)
        pairs = [(a, b, None) for a in a_rows for b in by_g.get(g[a], ()) if a != b]

    def pair_env(a: int, b: int, ref: dict | None) -> dict:
        env = {"a": rows[a], "b": rows[b], TODAY: today}
        for alias, refs in sides["a"]:
            env[alias] = refs[a]
        for alias, refs in sides["b"]:
            env[alias] = refs[b]
        if ref is not None:
            env["ref"] = ref
        return env

    envs = [pair_env(a, b, ref) for a, b, ref in pairs]
    flag_b, diag, unordered = rule.flag == "b", rule.over == "diagnoses", rule.unordered

    def finish(decided):
        hits, done = [], set()
        for (a, b, ref), env, d in zip(pairs, envs, decided):
            if not d:
                continue
            if unordered:  # (x, y) and (y, x) are one pair: oriented as (earlier row, later row)
                a, b = min(a, b), max(a, b)
                env = pair_env(a, b, ref)
            side, other = (b, a) if flag_b else (a, b)
            if side in done:  # one finding per flagged row: the first partner found explains it
                continue
            done.add(side)
            hits.append(Hit(rows[side], {**env, None: rows[side]}, None if diag else rows[other]))
        return hits

    not_checked = len({i for v in missing.values() for i, _ in v})
    return _plan(cr, envs, finish, diag, sum(ok), not_checked, missing, inputs)


# -- aggregate / claim ------------------------------------------------------------------------------

def _measure(kind: str, fn, group_envs: list[dict]):
    if fn is None:  # count()
        return float(len(group_envs))
    vals = [fn(e) for e in group_envs]
    if kind in ("count", "any", "all"):
        known = [truth(v) is True for v in vals]
        return float(sum(known)) if kind == "count" else any(known) if kind == "any" else all(known)
    present = [v for v in vals if v is not None]
    if kind == "nunique":
        return len(set(present))
    if not present:
        return None
    if kind == "sum":
        if all(isinstance(v, float) for v in present):
            return math.fsum(present)
        return sum(present)
    return min(present) if kind == "min" else max(present)


def plan_aggregate(cr: CompiledRule, unit: Unit) -> Plan:
    rule, today = cr.rule, unit.today
    rows = unit.frame(rule.over)
    inputs: dict = {}
    ok = applicable(cr, rows, today, inputs)
    missing: dict = {}
    joined, checked = _join_lookups(cr, unit, rows, ok, missing)
    members: dict = {}     # group key -> [(row index, row env)] in row order
    for i, r in enumerate(rows):
        if not (ok[i] and checked[i]):
            continue
        gk = _scope_key(r, rule.group_by, rule.over)
        if gk is None:
            continue
        env = {None: r, TODAY: today}
        for lk, refs, _ in joined:
            env[lk.alias] = refs[i]
        members.setdefault(gk, []).append((i, env))
    groups = list(members.values())
    genvs, measures = [], []
    for grp in groups:
        row_envs = [e for _, e in grp]
        values = {name: _measure(kind, fn, row_envs) for name, (kind, fn) in cr.measures.items()}
        genv = dict(row_envs[0])  # the group's first row, its lookups, and the measures
        genv[None] = {**row_envs[0][None], **values}
        genvs.append(genv)
        measures.append(values)
    flag, flag_where = rule.flag, cr.flag_where
    position = {id(r): i for i, r in enumerate(rows)}

    def finish(decided):
        hits = []
        for grp, genv, values, d in zip(groups, genvs, measures, decided):
            if not d:
                continue
            if flag == "group":
                hits.append(Hit(rows[grp[0][0]], genv))
                continue
            picked = [(i, e) for i, e in grp if flag_where is None or flag_where(e)]
            if not picked:
                continue
            if flag != "all":
                picked = [picked[0]] if flag == "first" else [picked[-1]]
            for i, _ in picked:
                hits.append(Hit(rows[i], {**genv, None: {**rows[i], **values}}))
        if flag == "all":  # the batch engine lists the rows of all failing groups in row order
            hits.sort(key=lambda h: position[id(h.row)])
        return hits

    n_ok = sum(ok)
    n_nc = sum(1 for i in range(len(rows)) if ok[i] and not checked[i])
    return _plan(cr, genvs, finish, flag == "group" or rule.over == "diagnoses", n_ok, n_nc, missing, inputs)


# -- duplicate --------------------------------------------------------------------------------------

def plan_duplicate(cr: CompiledRule, unit: Unit) -> Plan:
    rule, today = cr.rule, unit.today
    rows = unit.frame(rule.over)
    inputs: dict = {}
    ok = applicable(cr, rows, today, inputs)
    for k in rule.keys:
        if k == "modifiers":
            continue
        for i, r in enumerate(rows):
            if k not in r:
                raise RuleError(f"rule {rule.id}: unknown column '{k}' in keys")
            if r[k] is None:
                ok[i] = False
    todo = [i for i in range(len(rows)) if ok[i]]
    mods = ("modifier_1", "modifier_2", "modifier_3", "modifier_4")

    def keyof(r):
        parts = []
        for k in rule.keys:
            if k == "modifiers":  # the same set of modifiers in any order
                parts.extend(sorted("" if r.get(c) is None else str(r[c]) for c in mods))
            else:
                parts.append(r[k])
        return tuple(parts)

    # earliest submitted claim first: the later copy is the duplicate
    order = sorted(todo, key=lambda i: (_sort_none_last(rows[i].get("received_date")),
                                        _sort_none_last(rows[i]["claim_id"]),
                                        _sort_none_last(rows[i].get("line_number")), i))
    first_of: dict = {}
    dups = []
    for i in order:
        k = keyof(rows[i])
        if k in first_of:
            dups.append((i, first_of[k]))
        else:
            first_of[k] = i
    envs = [{None: rows[i], "first": rows[f], TODAY: today} for i, f in dups]
    diag = rule.over == "diagnoses"

    def finish(decided):
        return [Hit(rows[i], env, None if diag else rows[f]) for (i, f), env, d in zip(dups, envs, decided) if d]

    return _plan(cr, envs, finish, diag, len(todo), 0, {}, inputs)


# -- requires ---------------------------------------------------------------------------------------

def plan_requires(cr: CompiledRule, unit: Unit) -> Plan:
    rule, today = cr.rule, unit.today
    rows, prows = unit.frame(rule.over), unit.frame(rule.partner_over)
    inputs: dict = {}
    ok = applicable(cr, rows, today, inputs)
    missing: dict = {}
    joined, checked = _join_lookups(cr, unit, rows, ok, missing)
    join, key = rule.join, rule.default_key
    pkey = "code" if rule.partner_over == "diagnoses" else "procedure_code"
    same = rule.over == rule.partner_over
    ga = [_scope_key(r, rule.scope, rule.over) for r in rows]
    gb = ga if same else [_scope_key(r, rule.scope, rule.partner_over) for r in prows]
    partners: dict = {}    # (group, partner code) -> partner rows
    in_group: dict = {}    # group -> partner rows (with a code) in it
    for j, p in enumerate(prows):
        if gb[j] is None or p[pkey] is None:
            continue
        if cr.partner_where is not None and not cr.partner_where({None: p, TODAY: today}):
            continue
        partners.setdefault((gb[j], p[pkey]), []).append(j)
        in_group.setdefault(gb[j], []).append(j)
    rows_all = [i for i in range(len(rows)) if ok[i] and checked[i]]
    clock = unit.refs.clock(join.table)
    vid_of = {i: clock(rows[i]["service_date"]) for i in rows_all}
    lost = [(i, rows[i]["service_date"]) for i in rows_all if vid_of[i] is None]
    if lost:
        missing[join.table] = lost
    cands: list[tuple[int, dict]] = []
    for vid in dict.fromkeys(v for v in (vid_of[i] for i in rows_all) if v is not None):
        rs = [i for i in rows_all if vid_of[i] == vid]
        unit.note_version(join.table, vid, len(rs))
        pidx = unit.refs.pairs[(cr.join_id, vid)]
        right_of = pidx.right_of
        bad = []
        entries: dict = {}
        for i in rs:
            k = rows[i][key]
            rights = pidx.by_left.get(k) if k is not None else None
            if not rights:
                continue
            d = rows[i]["service_date"]
            ts = sorted(t for tl in rights.values() for t in tl if pidx.in_effect(t, d))
            if not ts:
                continue
            entries[i] = ts
            listed = {j for t in ts for j in partners.get((ga[i], right_of[t]), ()) if not (same and j == i)} \
                if ga[i] is not None else set()
            if rule.flag_when == "none_listed":
                if not listed:
                    bad.append(i)
            elif ga[i] is not None:  # all_listed: every partner in scope is listed (and there is one)
                scope_n = len(in_group.get(ga[i], ())) - (1 if same and i in in_group.get(ga[i], ()) else 0)
                if scope_n > 0 and len(listed) == scope_n:
                    bad.append(i)
        for i in sorted(bad):
            ts = entries[i]
            ref = pidx.table.row(ts[0])
            ref[join.right + "_list"] = _joined_list(right_of[t] for t in ts)
            ref["partner_list"] = _joined_list(prows[j][pkey] for j in in_group.get(ga[i], ())) \
                if ga[i] is not None else ""
            ref["_version"] = vid
            env = {None: rows[i], "ref": ref, TODAY: today}
            for lk, refs, _ in joined:
                env[lk.alias] = refs[i]
            cands.append((i, env))
    envs = [e for _, e in cands]

    def finish(decided):
        return [Hit(rows[i], env) for (i, env), d in zip(cands, decided) if d]

    not_checked = len({i for v in missing.values() for i, _ in v})
    return _plan(cr, envs, finish, rule.over == "diagnoses", sum(ok), not_checked, missing, inputs)


# -- frequency --------------------------------------------------------------------------------------

def plan_frequency(cr: CompiledRule, unit: Unit) -> Plan:
    rule, today = cr.rule, unit.today
    rows = unit.frame(rule.over)
    inputs: dict = {}
    ok = applicable(cr, rows, today, inputs)
    refs, checked = unit.lookup(rule.over, *cr.freq_lookup)
    lost = [(i, rows[i]["service_date"]) for i in range(len(rows)) if ok[i] and not checked[i]]
    missing = {rule.table: lost} if lost else {}
    groups: dict = {}
    for i, r in enumerate(rows):
        if not (ok[i] and checked[i] and refs[i]["found"] is True and r["service_date"] is not None):
            continue
        gk = _scope_key(r, rule.group_by, rule.over)
        if gk is not None:
            groups.setdefault(gk, []).append(i)
    cands = []
    for members in groups.values():
        members.sort(key=lambda i: (day(rows[i]["service_date"]), i))
        days = [day(rows[i]["service_date"]) for i in members]
        for k, i in enumerate(members):
            period = refs[i].get("period_days")
            start = 0 if period is None else bisect_left(days, days[k] - float(period) + 1)  # None = lifetime
            # (a period of zero days or less puts the window start after the row: never a hit)
            window = rows[members[start]]["service_date"] if start < len(members) else None
            env = {None: {**rows[i], "prior_count": float(k - start), "window_start": window},
                   "ref": refs[i], TODAY: today}
            cands.append((i, env))
    envs = [e for _, e in cands]

    def finish(decided):
        return [Hit(rows[i], env) for (i, env), d in zip(cands, decided) if d]

    return _plan(cr, envs, finish, False, sum(ok), len(lost), missing, inputs)


PLANNERS = {
    "line": plan_line,
    "pair": plan_pair,
    "aggregate": plan_aggregate,
    "claim": plan_aggregate,
    "duplicate": plan_duplicate,
    "requires": plan_requires,
    "frequency": plan_frequency,
}
