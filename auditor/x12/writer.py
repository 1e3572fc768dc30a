"""Write a subset of read claims (e.g. clean or held ones) as a new, valid 837 file.

Each claim is written with the loops it was read with (billing provider 2000A, subscriber
2000B, patient 2000C, claim 2300/2400), regrouped under fresh envelopes:

* one interchange per distinct original sender/receiver (ISA05-08, ISA15) and delimiters,
* one functional group per implementation guide (GS08 = ST03; 837P and 837I never share one),
* one transaction set per distinct original header (BHT + 1000A/1000B),
* HL numbers renumbered from 1 in every transaction, parents and HL04 child codes recomputed;
  identical billing-provider / subscriber / patient loops are written once with all their claims.

Control numbers: ISA13 = IEA02, GS06 = GE02, ST02 = SE02; SE01, GE01, IEA01 are counted.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from auditor.x12.model import ClaimEnvelope
from auditor.x12.tokens import Delimiters

log = logging.getLogger(__name__)

# ISA element widths (ISA01..ISA16): the ISA is a fixed-length segment
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_DEFAULT_ISA = ("ISA", "00", "", "00", "", "ZZ", "AUDITOR", "ZZ", "RECEIVER", "", "", "^", "00501",
                "", "0", "P", ":")


@dataclass
class WriteSummary:
    """What ``write_837`` wrote."""

    path: str
    interchanges: int
    groups: int
    transactions: int
    claims: int
    segments: int
    skipped: list[str | None]  # claims that could not be written (no billing/subscriber loop)


class _Tx:
    def __init__(self, version: str, header: tuple[str, ...], tr):
        self.version, self.header, self.tr = version, header, tr
        # billing key -> {"segs", "subs": {sub key -> {"segs", "claims": [], "pats": {...}}}}
        self.billing: dict[tuple, dict] = {}


def _translator(src: Delimiters, dst: Delimiters):
    """(str.translate table, characters that must not occur in the data) or None if unchanged."""
    if (src.element, src.component, src.repetition) == (dst.element, dst.component, dst.repetition):
        return None
    table = {ord(src.element): dst.element, ord(src.component): dst.component}
    if src.repetition and dst.repetition:
        table[ord(src.repetition)] = dst.repetition
    # a character that is plain data in the source but a delimiter in the target would corrupt it
    return table, frozenset(dst.chars() - src.chars())


def write_837(
    claim_envelopes: Iterable[ClaimEnvelope],
    out_path,
    *,
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    sender: tuple[str, str] | None = None,
    receiver: tuple[str, str] | None = None,
    usage_indicator: str | None = None,
    line_breaks: bool = False,
    now: _dt.datetime | None = None,
) -> WriteSummary:
    """Write the given claims as an 837 file at ``out_path`` (atomically: temp file + rename).

    ``control_number`` is the first ISA13 (incremented per interchange) and the first GS06;
    ``delimiters`` default to each claim's source delimiters; ``sender``/``receiver`` =
    (qualifier, id) override ISA05/06 and ISA07/08 (GS02/GS03 take the id); ``usage_indicator``
    overrides ISA15 ('P'/'T'); ``line_breaks`` puts a newline after every segment terminator.
    Writing zero claims produces an empty file (no envelopes), which is not an 837.
    """
    now = now or _dt.datetime.now()
    claims = list(claim_envelopes)
    skipped: list[str | None] = []
    # interchange key -> group key -> transaction key -> _Tx (insertion order = input order)
    tree: dict[tuple, dict[tuple, dict[tuple, _Tx]]] = {}
    ic_meta: dict[tuple, tuple] = {}
    for env in claims:
        if env.billing is None or env.subscriber is None:
            skipped.append(env.claim_id)
            continue
        d = delimiters or env.delimiters
        isa = list(env.isa) + [""] * (17 - len(env.isa)) if env.isa else list(_DEFAULT_ISA)
        if sender:
            isa[5], isa[6] = sender
        if receiver:
            isa[7], isa[8] = receiver
        if usage_indicator:
            isa[15] = usage_indicator
        ic_key = (tuple(isa[1:9]), isa[14], isa[15], d)
        ic_meta.setdefault(ic_key, (isa, d))
        gs = list(env.gs) + [""] * (9 - len(env.gs)) if env.gs else ["GS", "HC", "", "", "", "", "", "X", ""]
        gs_from = sender[1] if sender else gs[2]
        gs_to = receiver[1] if receiver else gs[3]
        g_key = (gs[1] or "HC", gs_from, gs_to, gs[7] or "X", env.version)
        # same raw header text *and* same source delimiters = same original transaction header
        tx_key = (env.header, env.delimiters)
        groups = tree.setdefault(ic_key, {})
        txs = groups.setdefault(g_key, {})
        tx = txs.get(tx_key)
        if tx is None:
            tx = txs[tx_key] = _Tx(env.version, env.header, _translator(env.delimiters, d))
        b = tx.billing.setdefault(env.billing, {"subs": {}})
        s = b["subs"].setdefault(env.subscriber, {"claims": [], "pats": {}})
        if env.patient is None:
            s["claims"].append(env)
        else:
            s["pats"].setdefault(env.patient, []).append(env)

    out: list[str] = []
    n_ic = n_gs = n_tx = n_claims = n_segs = 0
    ic_no = control_number
    gs_no = control_number
    date6, date8, time4 = now.strftime("%y%m%d"), now.strftime("%Y%m%d"), now.strftime("%H%M")
    for ic_key, groups in tree.items():
        isa, d = ic_meta[ic_key]
        e, term = d.element, d.segment + ("\n" if line_breaks else "")
        isa = list(isa)
        isa[9], isa[10] = date6, time4
        isa[11] = d.repetition or next(ch for ch in "^{!" if ch not in d.chars())
        isa[12] = isa[12] or "00501"
        isa[13] = f"{ic_no:09d}"
        isa[14] = isa[14] or "0"
        isa[15] = isa[15] or "P"
        isa[16] = d.component
        fields = [str(v)[:w].ljust(w) for v, w in zip(isa[1:17], _ISA_WIDTHS)]
        ic_segs = [e.join(["ISA", *fields])]
        ic_groups = 0
        for (fic, gs_from, gs_to, agency, version), txs in groups.items():
            g_segs = [e.join(["GS", fic, gs_from, gs_to, date8, time4, str(gs_no), agency, version])]
            st_no = 0
            for tx in txs.values():
                st_no += 1
                st_ctl = f"{st_no:04d}"
                tr = tx.tr
                body = [e.join(["ST", "837", st_ctl, version]), *_tr(tx.header, tr)]
                hl = 0
                for bill_segs, bill in tx.billing.items():
                    hl += 1
                    bill_hl = hl
                    body.append(e.join(["HL", str(bill_hl), "", "20", "1"]))
                    body.extend(_tr(bill_segs, tr))
                    for sub_segs, sub in bill["subs"].items():
                        hl += 1
                        sub_hl = hl
                        body.append(e.join(["HL", str(sub_hl), str(bill_hl), "22", "1" if sub["pats"] else "0"]))
                        body.extend(_tr(sub_segs, tr))
                        for env in sub["claims"]:
                            body.extend(_tr(env.segments, tr))
                            n_claims += 1
                        for pat_segs, pat_claims in sub["pats"].items():
                            hl += 1
                            body.append(e.join(["HL", str(hl), str(sub_hl), "23", "0"]))
                            body.extend(_tr(pat_segs, tr))
                            for env in pat_claims:
                                body.extend(_tr(env.segments, tr))
                                n_claims += 1
                body.append(e.join(["SE", str(len(body) + 1), st_ctl]))
                g_segs.extend(body)
            g_segs.append(e.join(["GE", str(st_no), str(gs_no)]))
            n_tx += st_no
            gs_no += 1
            ic_groups += 1
            ic_segs.extend(g_segs)
        ic_segs.append(e.join(["IEA", str(ic_groups), f"{ic_no:09d}"]))
        n_gs += ic_groups
        n_ic += 1
        ic_no += 1
        n_segs += len(ic_segs)
        out.append(term.join(ic_segs) + term)
    data = "".join(out).encode("latin-1")
    _atomic_write(out_path, data)
    if skipped:
        log.warning("%d claim(s) not written to %s: no billing provider or subscriber loop",
                    len(skipped), os.path.basename(os.fspath(out_path)))
    return WriteSummary(os.fspath(out_path), n_ic, n_gs, n_tx, n_claims, n_segs, skipped)


def _tr(segments: tuple[str, ...], tr) -> list[str] | tuple[str, ...]:
    if tr is None:
        return segments
    table, forbidden = tr
    out = [s.translate(table) for s in segments]
    for s in segments:
        if not forbidden.isdisjoint(s):
            raise ValueError("a data element contains a character that is a delimiter in the "
                             "requested output delimiters; choose other delimiters")
    return out


def _atomic_write(path, data: bytes) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".837", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
