"""ASC X12 5010 837P/837I reader: file -> canonical raw claim lines + structural issues + envelopes.

The reader walks the segments once with a small state machine (interchange > group >
transaction > HL hierarchy > claim > service line). Anything structurally wrong inside a claim
becomes an issue of that claim (segment index + element position) and never stops the other
claims; only a file that is not X12 at all raises ``InputError``.
"""

from __future__ import annotations

import logging
import os
import re

import pandas as pd

from auditor.x12.model import (
    INSTITUTIONAL,
    PROFESSIONAL,
    RAW_COLUMNS,
    ClaimEnvelope,
    X12Result,
)
from auditor.x12.tokens import Delimiters, Interchange, issue, load_text, split_interchanges

log = logging.getLogger(__name__)

_NUMERIC = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
_POINTER_FLOAT = re.compile(r"^(\d+)\.0*$")
_PAD = [""] * 8
_NO_MODS = (None, None, None, None)

# HI qualifiers (5010 ICD-10 'A..' codes and the ICD-9 ones still found in samples)
_DX_PRINCIPAL = {"ABK", "BK"}
_DX_OTHER = {"ABF", "BF"}
_DX_EXTRA = {"ABJ": "admitting", "BJ": "admitting", "APR": "reason_for_visit", "PR": "reason_for_visit",
             "ABN": "external_cause", "BN": "external_cause"}
_CLOSERS = frozenset({"HL", "SE", "GE", "IEA", "ST", "GS", "ISA"})
_CLAIM_READ = frozenset({"LX", "SV1", "SV2", "DTP", "NM1", "HI", "SBR"})


def claim_type_of(version: str | None) -> str | None:
    """'professional' / 'institutional' from a GS08/ST03 implementation convention reference."""
    v = (version or "").upper()
    if "X222" in v or "X098" in v:
        return PROFESSIONAL
    if "X223" in v or "X096" in v:
        return INSTITUTIONAL
    return None


def _d8(s: str) -> str:
    """CCYYMMDD -> YYYY-MM-DD; anything else is passed on raw for the normalizer to flag."""
    if len(s) == 8 and s.isdigit():
        return f"{s[:4]}-{s[4:6]}-{s[6:]}"
    return s


def _dates(fmt: str, value: str) -> tuple[str | None, str | None]:
    """DTP02/DTP03 -> (from, to); D8 gives the same date twice (CMS-1500 item 24A from = to)."""
    value = value.strip()
    if not value:
        return None, None
    if fmt == "RD8":
        a, _, b = value.partition("-")
        return _d8(a), (_d8(b) if b else None)
    if fmt == "D8":
        d = _d8(value)
        return d, d
    if fmt == "DT" and len(value) >= 8:
        d = _d8(value[:8])
        return d, d
    return value, None


def _dx(code: str) -> str | None:
    code = code.replace(".", "").strip().upper()
    return code or None


def _el(parts: list[str], i: int) -> str:
    return parts[i] if len(parts) > i else ""


class _Txn:
    __slots__ = ("st_index", "st_control", "version", "claim_type", "received", "header",
                 "header_t", "isa", "gs", "delims", "hl", "skip", "claims")

    def __init__(self, st_index, st_control, version, claim_type, isa, gs, delims):
        self.st_index, self.st_control, self.version = st_index, st_control, version
        self.claim_type = claim_type
        self.received: str | None = None
        self.header: list[str] = []
        self.header_t: tuple[str, ...] | None = None
        self.isa, self.gs, self.delims = isa, gs, delims
        self.hl: dict[str, object] = {}
        self.skip = False
        self.claims = 0


class _Ctx:
    """One HL level (20 billing provider, 22 subscriber, 23 patient) and its segments."""

    __slots__ = ("level", "index", "segments", "frozen", "parent", "npi", "member_id", "birth",
                 "sex", "payer", "seen_il", "seen_pr", "seen_85", "hl_id", "id_index")

    def __init__(self, level: str, index: int, parent: _Ctx | None, hl_id: str):
        self.level, self.index, self.parent, self.hl_id = level, index, parent, hl_id
        self.segments: list[str] = []
        self.frozen: tuple[str, ...] | None = None
        self.npi = self.member_id = self.birth = self.sex = self.payer = None
        self.seen_il = self.seen_pr = self.seen_85 = False
        self.id_index = index  # the NM1*85 / NM1*IL segment once seen (issue positions)

    def seal(self) -> tuple[str, ...]:
        if self.frozen is None:
            self.frozen = tuple(self.segments)
        return self.frozen


class _Line:
    __slots__ = ("lx_index", "number", "sv", "sv_index", "date_from", "date_to", "rendering")

    def __init__(self, lx_index: int | None, number: str | None):
        self.lx_index, self.number = lx_index, number
        self.sv: list[str] | None = None
        self.sv_index = 0
        self.date_from = self.date_to = self.rendering = None


class _Claim:
    __slots__ = ("clm", "index", "segments", "lines", "line", "dx_principal", "dx_other",
                 "dx_extra", "rendering", "received", "stmt_from", "stmt_to", "other_sub",
                 "issues", "txn", "billing", "subscriber", "patient", "id")

    def __init__(self, clm, index, txn, billing, subscriber, patient):
        self.clm, self.index, self.txn = clm, index, txn
        self.billing, self.subscriber, self.patient = billing, subscriber, patient
        self.id = _el(clm, 1).strip() or None
        self.segments: list[str] = []
        self.lines: list[_Line] = []
        self.line: _Line | None = None
        self.dx_principal: str | None = None
        self.dx_other: list[str] = []
        self.dx_extra: dict[str, list[str]] = {}
        self.rendering = self.received = self.stmt_from = self.stmt_to = None
        self.other_sub = False
        self.issues: list[dict] = []


class _Reader:
    def __init__(self, source_name: str):
        self.source = source_name
        self.rows: list[tuple] = []
        self.issues: list[dict] = []
        self.envelopes: list[ClaimEnvelope] = []
        self.n_txn = 0

    # -- issue helpers -------------------------------------------------------------------------
    def _issue(self, claim: _Claim | None, index, seg_id, element, message, severity="error"):
        rec = issue(claim.id if claim else None, index, seg_id, element, message, severity)
        self.issues.append(rec)
        if claim is not None:
            claim.issues.append(rec)

    # -- interchange walk ----------------------------------------------------------------------
    def run(self, ic: Interchange) -> None:
        d = ic.delimiters
        e, c = d.element, d.component
        self.issues.extend(ic.issues)
        isa: tuple[str, ...] | None = None
        gs: tuple[str, ...] | None = None
        gs_count = st_count = 0
        txn: _Txn | None = None
        claim: _Claim | None = None
        ctx: _Ctx | None = None       # current HL context
        billing = subscriber = patient = None
        orphan = False                # inside service lines that have no CLM
        idx = ic.first_index - 1
        for raw in ic.segments:
            idx += 1
            p = raw.find(e)
            sid = raw[:p] if p >= 0 else raw
            if claim is not None and sid not in _CLOSERS and sid != "CLM":
                # most claim segments (REF, N3, AMT, ...) are only kept for re-writing: split the
                # few the mapping reads
                if sid in _CLAIM_READ:
                    parts = raw.split(e)
                    if sid == "LX" and _el(parts, 1).strip() == "1" and claim.lines:
                        # line numbering restarts: the CLM of the next claim is missing
                        self._close_claim(claim)
                        claim = None
                        orphan = True
                        self._issue(None, idx, "LX", "LX01", "service line LX*1 without a CLM segment "
                                    "(numbering restarts); lines ignored until the next CLM or HL")
                        continue
                    claim.segments.append(raw)
                    self._claim_segment(claim, sid, parts, idx, c)
                else:
                    claim.segments.append(raw)
                continue
            parts = raw.split(e)
            if claim is not None:
                # CLM, HL or an envelope segment ends the current claim
                self._close_claim(claim)
                claim = None
            if sid == "CLM":
                orphan = False
                if txn is None or txn.skip:
                    self._issue(None, idx, "CLM", None, "CLM segment outside an 837 transaction (ST) ignored")
                    claim = None
                    continue
                if ctx is not None:
                    ctx.seal()
                claim = _Claim(parts, idx, txn, billing, subscriber,
                               patient if (ctx is not None and ctx.level == "23") else None)
                claim.segments.append(raw)
                if claim.id is None:
                    self._issue(claim, idx, "CLM", "CLM01", "claim identifier (CLM01) is missing")
                continue
            if sid == "HL":
                orphan = False
                if txn is None or txn.skip:
                    continue
                ctx = self._hl(txn, parts, idx, billing, subscriber)
                if ctx is None:
                    continue
                if ctx.level == "20":
                    billing, subscriber, patient = ctx, None, None
                elif ctx.level == "22":
                    billing, subscriber, patient = ctx.parent, ctx, None
                else:
                    subscriber, patient = ctx.parent, ctx
                    billing = subscriber.parent if subscriber is not None else billing
                continue
            if orphan:
                if sid not in _CLOSERS:
                    continue
                orphan = False
            if sid == "ST":
                if txn is not None:
                    self._issue(None, idx, "ST", None, f"transaction {txn.st_control} is not closed by SE")
                txn = self._start_txn(parts, idx, isa, gs, d)
                st_count += 1
                ctx = billing = subscriber = patient = None
                continue
            if sid == "SE":
                if txn is not None:
                    self._check_se(txn, parts, idx)
                else:
                    self._issue(None, idx, "SE", None, "SE without a matching ST")
                txn = None
                ctx = billing = subscriber = patient = None
                continue
            if sid == "GS":
                if gs is not None:
                    self._issue(None, idx, "GS", None, "functional group is not closed by GE")
                gs = tuple(parts)
                gs_count += 1
                st_count = 0
                continue
            if sid == "GE":
                if txn is not None:
                    self._issue(None, idx, "GE", None, f"transaction {txn.st_control} is not closed by SE")
                    txn = None
                if gs is None:
                    self._issue(None, idx, "GE", None, "GE without a matching GS")
                else:
                    if _el(parts, 1).strip() != str(st_count):
                        self._issue(None, idx, "GE", "GE01", f"GE01 says {_el(parts, 1)!r} transaction sets; "
                                    f"the group holds {st_count}")
                    if _el(parts, 2).strip() != _el(gs, 6).strip():
                        self._issue(None, idx, "GE", "GE02", "GE02 does not match the GS06 control number")
                gs = None
                continue
            if sid == "ISA":
                isa = tuple(parts)
                continue
            if sid == "IEA":
                if gs is not None:
                    self._issue(None, idx, "IEA", None, "functional group is not closed by GE")
                    gs = None
                if _el(parts, 1).strip() != str(gs_count):
                    self._issue(None, idx, "IEA", "IEA01", f"IEA01 says {_el(parts, 1)!r} functional groups; "
                                f"the interchange holds {gs_count}")
                if isa is not None and _el(parts, 2).strip() != _el(isa, 13).strip():
                    self._issue(None, idx, "IEA", "IEA02", "IEA02 does not match the ISA13 control number")
                continue
            # header / HL-level segments
            if txn is None:
                if gs is None and sid != "TA1":
                    self._issue(None, idx, sid, None, f"segment {sid} outside a functional group ignored")
                continue
            if txn.skip:
                continue
            if ctx is None:
                if sid == "BHT":
                    txn.received = _d8(_el(parts, 4).strip()) or None
                    txn.header.append(raw)
                elif sid in ("LX", "SV1", "SV2"):
                    self._issue(None, idx, sid, None, f"{sid} before any HL/CLM segment ignored")
                    orphan = True
                else:
                    txn.header.append(raw)
                continue
            if sid in ("LX", "SV1", "SV2"):
                self._issue(None, idx, sid, None, f"service line ({sid}) without a CLM segment; "
                            "lines ignored until the next CLM or HL")
                orphan = True
                continue
            if ctx.frozen is not None:
                # only reachable after dropped lines: the loop was already handed to its claims
                self._issue(None, idx, sid, None, f"segment {sid} after the claims of its HL ignored", "warning")
                continue
            ctx.segments.append(raw)
            self._ctx_segment(ctx, sid, parts, idx)
        # end of interchange: close whatever is still open
        if claim is not None:
            self._close_claim(claim)
        if txn is not None:
            self._issue(None, idx, None, None, f"transaction {txn.st_control} is not closed by SE (truncated?)")
        if gs is not None:
            self._issue(None, idx, None, None, "functional group is not closed by GE (truncated?)")

    # -- pieces --------------------------------------------------------------------------------
    def _start_txn(self, parts, idx, isa, gs, d: Delimiters) -> _Txn:
        self.n_txn += 1
        version = _el(parts, 3).strip() or (_el(gs, 8).strip() if gs else "")
        ctype = claim_type_of(version) or claim_type_of(_el(gs, 8) if gs else "")
        txn = _Txn(idx, _el(parts, 2).strip(), version, ctype, isa or (), gs or (), d)
        if isa is None or gs is None:
            self._issue(None, idx, "ST", None, "transaction set outside an ISA/GS envelope")
        if _el(parts, 1).strip() != "837":
            self._issue(None, idx, "ST", "ST01", f"transaction set {_el(parts, 1)!r} is not an 837; skipped",
                        "warning")
            txn.skip = True
        elif ctype is None and ("X224" in version or "X097" in version):
            self._issue(None, idx, "ST", "ST03", "837 dental (X224) is not supported; transaction skipped")
            txn.skip = True
        elif ctype is None:
            self._issue(None, idx, "ST", "ST03", f"unknown 837 implementation {version!r}; claim type "
                        "taken from the service lines", "warning")
        return txn

    def _check_se(self, txn: _Txn, parts, idx) -> None:
        count = idx - txn.st_index + 1
        if _el(parts, 1).strip() != str(count):
            self._issue(None, idx, "SE", "SE01", f"SE01 says {_el(parts, 1)!r} segments; "
                        f"the transaction holds {count}")
        if _el(parts, 2).strip() != txn.st_control:
            self._issue(None, idx, "SE", "SE02", "SE02 does not match the ST02 control number")

    def _hl(self, txn: _Txn, parts, idx, billing, subscriber) -> _Ctx | None:
        hl_id, parent_id, level = _el(parts, 1).strip(), _el(parts, 2).strip(), _el(parts, 3).strip()
        want = {"22": "20", "23": "22"}.get(level)
        parent = None
        if level == "20":
            if parent_id:
                self._issue(None, idx, "HL", "HL02", "billing provider HL (20) must not have a parent", "warning")
        elif want:
            parent = txn.hl.get(parent_id)
            if parent is None or parent.level != want:
                fallback = billing if level == "22" else subscriber
                self._issue(None, idx, "HL", "HL02", f"HL parent {parent_id!r} is not a level {want} HL"
                            + ("; using the preceding one" if fallback is not None else ""))
                parent = fallback
        else:
            self._issue(None, idx, "HL", "HL03", f"unsupported HL level code {level!r}; loop ignored")
            return None
        if hl_id in txn.hl:
            self._issue(None, idx, "HL", "HL01", f"HL id {hl_id!r} is used twice in the transaction")
        ctx = _Ctx(level, idx, parent, hl_id)
        txn.hl[hl_id] = ctx
        return ctx

    @staticmethod
    def _ctx_segment(ctx: _Ctx, sid: str, parts: list[str], idx: int) -> None:
        if sid == "NM1":
            q = _el(parts, 1)
            if q == "85" and ctx.level == "20" and not ctx.seen_85:
                ctx.seen_85 = True
                ctx.id_index = idx
                # 5010 bills under the NPI only (NM108 = XX); another qualifier is not an NPI
                ctx.npi = (_el(parts, 9).strip() or None) if _el(parts, 8).strip() == "XX" else None
            elif q == "IL" and ctx.level == "22" and not ctx.seen_il:
                ctx.seen_il = True
                ctx.id_index = idx
                ctx.member_id = _el(parts, 9).strip() or None
            elif q == "PR" and ctx.level == "22" and not ctx.seen_pr:
                ctx.seen_pr = True
                ctx.payer = _el(parts, 3).strip() or None
        elif sid == "DMG" and ctx.birth is None and ctx.sex is None:
            ctx.birth = _d8(_el(parts, 2).strip()) or None
            ctx.sex = _el(parts, 3).strip() or None

    def _claim_segment(self, cl: _Claim, sid: str, parts: list[str], idx: int, c: str) -> None:
        line = cl.line
        if sid == "LX":
            line = _Line(idx, _el(parts, 1).strip() or None)
            cl.lines.append(line)
            cl.line = line
            expected = str(len(cl.lines))
            if line.number != expected:
                self._issue(cl, idx, "LX", "LX01", f"LX01 is {line.number!r}, expected {expected}", "warning")
        elif sid == "SV1" or sid == "SV2":
            if line is None or line.sv is not None:
                self._issue(cl, idx, sid, None, f"{sid} without a preceding LX segment")
                line = _Line(None, None)
                cl.lines.append(line)
                cl.line = line
            line.sv = parts
            line.sv_index = idx
        elif sid == "DTP":
            q = _el(parts, 1)
            if line is not None:
                if q == "472":
                    line.date_from, line.date_to = _dates(_el(parts, 2), _el(parts, 3))
                    if line.date_from is None:
                        self._issue(cl, idx, "DTP", "DTP03", "service date (DTP*472) is empty")
            elif not cl.other_sub:
                if q == "434":
                    cl.stmt_from, cl.stmt_to = _dates(_el(parts, 2), _el(parts, 3))
                elif q == "050":
                    cl.received = _dates(_el(parts, 2), _el(parts, 3))[0]
        elif sid == "NM1":
            if _el(parts, 1) == "82":
                npi = _el(parts, 9).strip() if _el(parts, 8) == "XX" else ""
                if line is not None:
                    if npi:
                        line.rendering = npi
                elif not cl.other_sub and npi:
                    cl.rendering = npi
        elif sid == "HI":
            if line is not None or cl.other_sub:
                self._issue(cl, idx, "HI", None, "HI segment outside the claim loop (2300) ignored", "warning")
                return
            for el in parts[1:]:
                if not el:
                    continue
                comp = el.split(c)
                q, code = comp[0].strip(), _dx(comp[1] if len(comp) > 1 else "")
                if code is None:
                    continue
                if q in _DX_PRINCIPAL:
                    if cl.dx_principal is None:
                        cl.dx_principal = code
                    else:
                        self._issue(cl, idx, "HI", None, "more than one principal diagnosis; extra one "
                                    "treated as other diagnosis", "warning")
                        cl.dx_other.append(code)
                elif q in _DX_OTHER:
                    cl.dx_other.append(code)
                elif q in _DX_EXTRA:
                    cl.dx_extra.setdefault(_DX_EXTRA[q], []).append(code)
        elif sid == "SBR":
            if line is None:
                cl.other_sub = True  # 2320/2330x: NM1*IL/PR/82 there are another payer's, not ours
            else:
                self._issue(cl, idx, "SBR", None, "SBR (other subscriber) inside a service line")

    # -- claim -> rows + envelope ----------------------------------------------------------------
    def _close_claim(self, cl: _Claim) -> None:
        txn = cl.txn
        clm = cl.clm
        ctype = txn.claim_type
        if ctype is None:
            for ln in cl.lines:
                if ln.sv is not None:
                    ctype = txn.claim_type = PROFESSIONAL if ln.sv[0] == "SV1" else INSTITUTIONAL
                    break
        inst = ctype == INSTITUTIONAL
        sub, pat, bill = cl.subscriber, cl.patient, cl.billing
        cid = cl.id
        i0 = cl.index
        if bill is None:
            self._issue(cl, i0, "CLM", None, "claim is not under a billing provider HL (2000A)")
        elif bill.npi is None:
            self._issue(cl, bill.id_index, "NM1", "NM109", "billing provider NPI (2010AA NM1*85 with "
                        "NM108 = XX) is missing")
        if sub is None:
            self._issue(cl, i0, "CLM", None, "claim is not under a subscriber HL (2000B)")
        else:
            if sub.member_id is None:
                self._issue(cl, sub.id_index, "NM1", "NM109", "subscriber member id (2010BA NM1*IL) is missing")
            if not sub.seen_pr:
                self._issue(cl, sub.index, "NM1", None, "payer name loop (2010BB NM1*PR) is missing")
        c = txn.delims.component
        # CLM02 total
        total_raw = _el(clm, 2).strip()
        total = None
        if not total_raw:
            self._issue(cl, i0, "CLM", "CLM02", "total claim charge (CLM02) is missing")
        elif not _NUMERIC.match(total_raw):
            self._issue(cl, i0, "CLM", "CLM02", f"total claim charge (CLM02) {total_raw!r} is not a number")
        else:
            total = float(total_raw)
        clm05 = _el(clm, 5).split(c)
        facility = clm05[0].strip()
        if not facility:
            self._issue(cl, i0, "CLM", "CLM05-1", "type of bill / place of service (CLM05-1) is missing")
        if inst:
            freq = clm05[2].strip() if len(clm05) > 2 else ""
            tob = (("0" + facility if len(facility) == 2 else facility) + freq) if facility else None
            pos_claim = None
            if facility and not freq:
                self._issue(cl, i0, "CLM", "CLM05-3", "claim frequency code (CLM05-3) is missing")
        else:
            tob = None
            pos_claim = facility or None
        if cl.dx_principal is None:
            self._issue(cl, i0, "HI", None, "principal diagnosis (HI*ABK) is missing")
        dx = [cl.dx_principal] + cl.dx_other
        if len(dx) > 12:
            extra = dx[12:]
            cl.dx_extra["other_beyond_12"] = extra
            self._issue(cl, i0, "HI", None, f"{len(extra)} other diagnosis code(s) beyond dx_12 are not "
                        "in the line columns", "warning")
        dx = (dx + [None] * 12)[:12]
        if not cl.lines:
            self._issue(cl, i0, "CLM", None, "claim has no service lines (LX/SV1/SV2)")
        member_id = sub.member_id if sub else None
        person = pat if (pat is not None and (pat.birth or pat.sex)) else sub
        birth = person.birth if person else None
        sex = person.sex if person else None
        payer = sub.payer if sub else None
        bill_npi = bill.npi if bill else None
        received = cl.received or txn.received
        rend_claim = cl.rendering or bill_npi
        charges_ok = True
        charge_sum = 0.0
        rows = self.rows
        for n, ln in enumerate(cl.lines, 1):
            sv = ln.sv
            if sv is None:
                self._issue(cl, ln.lx_index, "LX", None, "LX without a service segment (SV1/SV2)")
                continue
            sid = sv[0]
            si = ln.sv_index
            if len(sv) < 8:
                sv = sv + _PAD[: 8 - len(sv)]
            if sid == "SV1":
                proc = sv[1].split(c)
                charge, units = sv[2].strip(), sv[4].strip()
                pos = sv[5].strip() or pos_claim
                ptr = sv[7].strip()
                if ptr:
                    ptr = ptr.replace(c, ",")
                    if "." in ptr or " " in ptr or ",," in ptr:  # '1.00' style pointers seen in samples
                        ptr = ",".join(_POINTER_FLOAT.sub(r"\1", p.strip()) for p in ptr.split(",") if p.strip())
                ptr = ptr or None
                rev = None
                ce, ue, pe = "SV102", "SV104", "SV101"
            else:
                rev = sv[1].strip() or None
                proc = sv[2].split(c) if sv[2] else [""]
                charge, units = sv[3].strip(), sv[5].strip()
                pos = None
                ptr = None
                ce, ue, pe = "SV203", "SV205", "SV202"
                if rev is None:
                    self._issue(cl, si, sid, "SV201", "revenue code (SV201) is missing")
            code = proc[1].strip() if len(proc) > 1 else ""
            if not code and (sid == "SV1" or len(proc) > 1 or proc[0]):
                self._issue(cl, si, sid, pe + "-2", "procedure code is missing")
            if len(proc) > 2:
                mods = [(proc[k].strip() or None) if len(proc) > k else None for k in (2, 3, 4, 5)]
            else:
                mods = _NO_MODS
            if not charge:
                self._issue(cl, si, sid, ce, "line charge is missing")
                charges_ok = False
            elif not _NUMERIC.match(charge):
                self._issue(cl, si, sid, ce, f"line charge {charge!r} is not a number")
                charges_ok = False
            else:
                charge_sum += float(charge)
            if not units:
                self._issue(cl, si, sid, ue, "service units are missing")
            elif not _NUMERIC.match(units):
                self._issue(cl, si, sid, ue, f"service units {units!r} are not a number")
            d_from, d_to = ln.date_from, ln.date_to
            if d_from is None:
                if inst and cl.stmt_from:
                    d_from, d_to = cl.stmt_from, cl.stmt_to
                else:
                    self._issue(cl, si, sid, None, f"service line {n} has no service date (DTP*472)")
            rows.append((
                cid, ln.number if (ln.number and ln.number.isdigit()) else str(n), ctype, member_id,
                birth, sex, bill_npi, ln.rendering or rend_claim, pos, d_from, d_to, received,
                code or None, *mods, units or None, charge or None, *dx, ptr, payer, tob, rev, si,
            ))
        if total is not None and charges_ok and cl.lines and abs(total - charge_sum) > 0.005:
            self._issue(cl, i0, "CLM", "CLM02", f"total claim charge (CLM02) {total_raw} does not equal the "
                        f"sum of the line charges {charge_sum:.2f}")
        if txn.header_t is None:
            txn.header_t = tuple(txn.header)
        txn.claims += 1
        self.envelopes.append(ClaimEnvelope(
            claim_id=cid, claim_type=ctype, version=txn.version, source_name=self.source,
            segment_index=i0, delimiters=txn.delims, isa=txn.isa, gs=txn.gs, header=txn.header_t,
            billing=bill.seal() if bill else None, subscriber=sub.seal() if sub else None,
            patient=pat.seal() if pat else None, segments=tuple(cl.segments),
            line_count=sum(1 for ln in cl.lines if ln.sv is not None), issues=cl.issues,
            extra_dx=cl.dx_extra,
        ))


def read_837(path_or_bytes, source_name: str | None = None) -> X12Result:
    """Read an 837P/837I file (path or bytes) into canonical raw lines, issues and claim envelopes.

    Raises ``auditor.errors.InputError`` (naming ``source_name``) when the input is not X12.
    """
    if source_name is None:
        source_name = "<bytes>" if isinstance(path_or_bytes, (bytes, bytearray, memoryview)) \
            else os.path.basename(os.fspath(path_or_bytes))
    text = load_text(path_or_bytes, source_name)
    interchanges = split_interchanges(text, source_name)
    del text
    r = _Reader(source_name)
    for ic in interchanges:
        r.run(ic)
    lines = pd.DataFrame(r.rows, columns=RAW_COLUMNS, dtype=object)
    lines["source_row"] = lines["source_row"].astype("int64")
    log.info("read %d claims, %d lines, %d issues from %s", len(r.envelopes), len(lines),
             len(r.issues), source_name)
    return X12Result(lines=lines, issues=r.issues, claims=r.envelopes, source_name=source_name,
                     interchanges=len(interchanges), transactions=r.n_txn)
