"""Waivers: approved exceptions that take matching findings out of the open count until they expire.

A waiver matches findings by fingerprint, or by rule plus claim, rule plus rendering provider, or
rule plus a service-date range (a rule with several of these must match all of them). Each needs a
reason, who approved it and an expiry date. On the as-of date of a run a waiver is *active* while
as_of <= expires; an expired waiver no longer applies (its findings are open again) and is
reported as expired; an active waiver matching no finding is reported as *stale*.

Waiver file (YAML, a list under `waivers:` or a bare list; or CSV with the same column names)::

    waivers:
      - id: W-001                      # optional; default file name and position
        rule: NCCI001                  # or rule_id
        provider: "1234567893"         # or rendering_npi
        reason: Bundling agreement with the payer, contract 2026-17
        approved_by: J. Smith (compliance)
        expires: 2027-06-30
      - fingerprint: 3fa1c2d4e5b6a7f8
        reason: ...; approved_by: ...; expires: ...
      - rule: MUE001
        claim: C123                    # or claim_id
      - rule: TF001
        from: 2026-01-01               # or date_from / date_to (service dates, inclusive)
        to: 2026-03-31
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from auditor.errors import AuditorError

WAIVER_COLUMNS = ["waiver_id", "waiver_reason", "waiver_approved_by", "waiver_expires"]
STATUS_COLUMNS = ["waiver_id", "status", "findings_matched", "match", "reason", "approved_by", "expires", "source"]
_ALIASES = {"rule": "rule_id", "claim": "claim_id", "provider": "rendering_npi", "npi": "rendering_npi",
            "from": "date_from", "to": "date_to", "approved": "approved_by", "expiry": "expires"}
_FIELDS = {"id", "fingerprint", "rule_id", "claim_id", "rendering_npi", "date_from", "date_to", "reason",
           "approved_by", "expires"}


class WaiverError(AuditorError):
    """A waiver that is incomplete or cannot be read."""


def _date(value, what: str, where: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise WaiverError(f"{where}: {what} '{value}' is not a date (YYYY-MM-DD)") from None


def _text(value, upper: bool = False) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text.upper() if upper else text


@dataclass(frozen=True)
class Waiver:
    id: str
    reason: str
    approved_by: str
    expires: date
    fingerprint: str | None = None
    rule_id: str | None = None
    claim_id: str | None = None
    rendering_npi: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    source: str = ""

    def validated(self, where: str | None = None) -> "Waiver":
        """Normalised copy; raises WaiverError naming `where` when the waiver is incomplete."""
        where = where or f"waiver {self.id}"
        w = replace(self, fingerprint=_text(self.fingerprint) and _text(self.fingerprint).lower(),
                    rule_id=_text(self.rule_id, upper=True), claim_id=_text(self.claim_id, upper=True),
                    rendering_npi=_text(self.rendering_npi), reason=_text(self.reason) or "",
                    approved_by=_text(self.approved_by) or "",
                    date_from=_date(self.date_from, "from", where), date_to=_date(self.date_to, "to", where),
                    expires=_date(self.expires, "expires", where))
        missing = [k for k in ("reason", "approved_by", "expires") if not getattr(w, k)]
        if missing:
            raise WaiverError(f"{where}: missing {', '.join(missing)} (every waiver needs a reason, "
                              "who approved it and an expiry date)")
        narrows = w.claim_id or w.rendering_npi or w.date_from or w.date_to
        if not w.fingerprint and not (w.rule_id and narrows):
            raise WaiverError(f"{where}: a waiver names a fingerprint, or a rule plus a claim, a provider "
                              "or a date range (to switch a rule off everywhere use --ignore)")
        if w.date_from and w.date_to and w.date_from > w.date_to:
            raise WaiverError(f"{where}: from {w.date_from} is after to {w.date_to}")
        return w

    def describe(self) -> str:
        parts = []
        if self.fingerprint:
            parts.append(f"fingerprint {self.fingerprint}")
        if self.rule_id:
            parts.append(f"rule {self.rule_id}")
        if self.claim_id:
            parts.append(f"claim {self.claim_id}")
        if self.rendering_npi:
            parts.append(f"provider {self.rendering_npi}")
        if self.date_from or self.date_to:
            parts.append(f"service {self.date_from or '...'} to {self.date_to or '...'}")
        return ", ".join(parts)

    def mask(self, f: pd.DataFrame, by_fingerprint: dict | None = None) -> pd.Series:
        """Which findings this waiver matches (`by_fingerprint`: {fingerprint: [row positions]}
        makes fingerprint waivers cost O(1) instead of a scan; thousands are common)."""
        if self.fingerprint and by_fingerprint is not None:
            m = pd.Series(False, index=f.index)
            m.iloc[by_fingerprint.get(self.fingerprint, [])] = True
        else:
            m = pd.Series(True, index=f.index)
        if self.fingerprint and by_fingerprint is None:
            m &= f["fingerprint"].astype(object).str.lower() == self.fingerprint
        if self.rule_id:
            m &= f["rule_id"].astype(object) == self.rule_id
        if self.claim_id:
            m &= f["claim_id"].astype(object).str.upper() == self.claim_id
        if self.rendering_npi:
            m &= f["rendering_npi"].astype(object) == self.rendering_npi
        if self.date_from or self.date_to:
            d = pd.to_datetime(f["service_date"])
            if self.date_from:
                m &= d >= pd.Timestamp(self.date_from)
            if self.date_to:
                m &= d <= pd.Timestamp(self.date_to)
        return m.fillna(False).astype(bool)


def _from_mapping(item: dict, default_id: str, source: str) -> Waiver:
    if not isinstance(item, dict):
        raise WaiverError(f"{default_id}: each waiver is a mapping of fields")
    d = {}
    for k, v in item.items():
        key = _ALIASES.get(str(k).strip().lower(), str(k).strip().lower())
        if key not in _FIELDS:
            raise WaiverError(f"{default_id}: unknown field '{k}' (fields: fingerprint, rule, claim, provider, "
                              "from, to, reason, approved_by, expires, id)")
        d[key] = v
    wid = _text(d.pop("id", None)) or default_id
    return Waiver(id=wid, source=source, **{k: d.get(k) for k in _FIELDS - {"id"}}).validated(
        f"{default_id} ({wid})" if wid != default_id else default_id)


def load_waiver_file(path: str | Path) -> list[Waiver]:
    """Waivers from a YAML or CSV file (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise WaiverError(f"{p}: waiver file not found")
    if p.suffix.lower() == ".csv":
        with p.open(newline="", encoding="utf-8-sig") as fh:
            items = [{k: v for k, v in row.items() if k is not None} for row in csv.DictReader(fh)]
    else:
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise WaiverError(f"{p}: not valid YAML: {exc}") from None
        items = data.get("waivers") if isinstance(data, dict) else data
        if items is None:
            items = []
        if not isinstance(items, list):
            raise WaiverError(f"{p}: expected a list of waivers (or `waivers:` with a list)")
    out = [_from_mapping(item, f"{p.name}#{i}", str(p)) for i, item in enumerate(items, 1)]
    ids = [w.id for w in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise WaiverError(f"{p}: duplicate waiver id(s): {', '.join(dup)}")
    return out


def from_store(rows: list[dict]) -> list[Waiver]:
    """Waiver records of the history store (auditor history waiver add)."""
    return [Waiver(id=f"db-{r['id']}", fingerprint=r.get("fingerprint"), rule_id=r.get("rule_id"),
                   claim_id=r.get("claim_id"), rendering_npi=r.get("rendering_npi"), date_from=r.get("date_from"),
                   date_to=r.get("date_to"), reason=r["reason"], approved_by=r["approved_by"], expires=r["expires"],
                   source="history store").validated() for r in rows]


@dataclass
class WaiverOutcome:
    open: pd.DataFrame         # findings still counted (FINDING_COLUMNS)
    waived: pd.DataFrame       # waived findings + WAIVER_COLUMNS
    status: pd.DataFrame       # one row per waiver (STATUS_COLUMNS)
    expired_matches: int = 0   # findings that an expired waiver would have covered (counted as open)

    def counts(self) -> dict:
        s = self.status["status"].value_counts() if len(self.status) else {}
        return {k: int(s.get(k, 0)) for k in ("applied", "stale", "expired")}


def apply_waivers(findings: pd.DataFrame, waivers: list[Waiver], as_of: date) -> WaiverOutcome:
    """Split findings into open and waived; the first active waiver (in the given order) that matches wins."""
    f = findings.reset_index(drop=True)
    taken = pd.Series(False, index=f.index)
    waiver_of = pd.Series(None, index=f.index, dtype=object)
    rows, expired_hits = [], pd.Series(False, index=f.index)
    by_id = {}
    by_fp: dict[str, list[int]] = {}
    for pos, fp in enumerate(f["fingerprint"].astype(object).str.lower() if len(f) else []):
        by_fp.setdefault(fp, []).append(pos)
    for w in waivers:
        m = w.mask(f, by_fp) if len(f) else pd.Series(False, index=f.index)
        active = as_of <= w.expires
        if active:
            new = m & ~taken
            waiver_of[new] = w.id
            taken |= new
            status = "applied" if m.any() else "stale"
        else:
            expired_hits |= m
            status = "expired"
        by_id[w.id] = w
        rows.append({"waiver_id": w.id, "status": status, "findings_matched": int(m.sum()), "match": w.describe(),
                     "reason": w.reason, "approved_by": w.approved_by, "expires": w.expires, "source": w.source})
    waived = f[taken].copy()
    ws = [by_id[i] for i in waiver_of[taken]]
    waived["waiver_id"] = [w.id for w in ws]
    waived["waiver_reason"] = [w.reason for w in ws]
    waived["waiver_approved_by"] = [w.approved_by for w in ws]
    waived["waiver_expires"] = [w.expires for w in ws]
    status = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    return WaiverOutcome(open=f[~taken].reset_index(drop=True), waived=waived.reset_index(drop=True),
                         status=status, expired_matches=int((expired_hits & ~taken).sum()))


def waiver_dict(w: Waiver) -> dict:
    return asdict(w)
