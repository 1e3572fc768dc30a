"""Derived reference tables ("views"): two stored kinds joined on shared columns, version-matched.

Some reference data comes as several tables that a rule needs as one: an LCD billing article lists
its HCPCS codes and its covered ICD-10-CM codes in two files linked by ``article_id``; the MCE lists
codes per edit type while the age range of each edit type is a second table. A view names such a
join once, and rules use it like any stored kind (``lookup: {table: lcd_covered_pairs, ...}``).

Versions: on a date of service, a view uses the version of each source in effect on that date;
its version id is ``<left id>+<right id>``. A date where either source has no version is not
checked, and the coverage section names the missing source. The views wrap any store with the
RefStore interface (:class:`ViewStore`); stored kinds pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pandas as pd

SEP = "+"


@dataclass(frozen=True)
class View:
    left: str                              # source kind
    right: str                             # source kind
    on: tuple[str, ...]                    # columns both sources share (inner join)
    left_columns: tuple[tuple[str, str], ...]   # (source column, view column) taken from the left
    right_columns: tuple[tuple[str, str], ...]  # (source column, view column) taken from the right
    label: str = ""

    @property
    def sources(self) -> tuple[str, str]:
        return self.left, self.right


_LCD = (("article_id", "article_id"), ("code", "hcpc_code"))
VIEWS: dict[str, View] = {
    # HCPCS code of an LCD billing article x each ICD-10-CM code the article covers
    "lcd_covered_pairs": View("lcd_hcpc", "lcd_icd10_covered", ("article_id",), _LCD,
                              (("code", "icd10_code"),), "LCD articles: HCPCS codes x covered ICD-10-CM codes"),
    # ... x each ICD-10-CM code the article lists as not supporting medical necessity
    "lcd_noncovered_pairs": View("lcd_hcpc", "lcd_icd10_noncovered", ("article_id",), _LCD,
                                 (("code", "icd10_code"),),
                                 "LCD articles: HCPCS codes x non-covered ICD-10-CM codes"),
    # MCE age edits (Newborn_Only, Pediatric_Only, ...) with the age range of their group
    "mce_age_edits": View("mce", "mce_age_groups", ("edit_type",),
                          (("code", "code"), ("code_type", "code_type"), ("edit_type", "edit_type")),
                          (("group", "group"), ("min_age", "min_age"), ("max_age", "max_age")),
                          "MCE age edits with their age groups"),
}


def sources(kind: str) -> tuple[str, ...]:
    """The stored kinds a (possibly derived) kind is read from."""
    return VIEWS[kind].sources if kind in VIEWS else (kind,)


def split_version(kind: str, version_id: str) -> list[tuple[str, str]]:
    """(source kind, source version id) pairs behind a view's version id; the kind itself otherwise."""
    if kind not in VIEWS:
        return [(kind, version_id)]
    left, right = version_id.split(SEP, 1)
    v = VIEWS[kind]
    return [(v.left, left), (v.right, right)]


class ViewStore:
    """A store with the views added; every other call goes to the wrapped store."""

    def __init__(self, base):
        self.base = base
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}

    def __getattr__(self, name):
        return getattr(self.base, name)

    def kinds(self) -> list[str]:
        ks = set(self.base.kinds())
        return sorted(ks | {k for k, v in VIEWS.items() if set(v.sources) <= ks})

    def versions(self, kind: str) -> list:
        if kind not in VIEWS:
            return self.base.versions(kind)
        v = VIEWS[kind]
        lv, rv = self.base.versions(v.left), self.base.versions(v.right)
        return [SimpleNamespace(kind=kind, version_id=a.version_id + SEP + b.version_id,
                                valid_from=a.valid_from, valid_to=a.valid_to, rows=None,
                                source=f"{a.source} + {b.source}", sha256="", imported_at="",
                                builtin=bool(a.builtin and b.builtin), row_dated=False)
                for a in lv for b in rv]

    def table(self, kind: str, version_id: str) -> pd.DataFrame:
        if kind not in VIEWS:
            return self.base.table(kind, version_id)
        key = (kind, version_id)
        if key not in self._cache:
            v = VIEWS[kind]
            (_, lid), (_, rid) = split_version(kind, version_id)
            lt, rt = self.base.table(v.left, lid), self.base.table(v.right, rid)
            lcols = dict(v.left_columns)
            rcols = dict(v.right_columns)
            left = lt[list(dict.fromkeys([*v.on, *lcols]))].rename(
                columns={c: n for c, n in lcols.items() if c not in v.on})
            right = rt[list(dict.fromkeys([*v.on, *rcols]))].rename(
                columns={c: n for c, n in rcols.items() if c not in v.on})
            joined = left.merge(right, on=list(v.on), how="inner")
            joined = joined.rename(columns={c: n for c, n in {**lcols, **rcols}.items() if c in v.on})
            self._cache[key] = joined.drop_duplicates().reset_index(drop=True)
        return self._cache[key]

    def version_for_dates(self, kind: str, dates: pd.Series) -> pd.Series:
        if kind not in VIEWS:
            return self.base.version_for_dates(kind, dates)
        v = VIEWS[kind]
        a = self.base.version_for_dates(v.left, dates)
        b = self.base.version_for_dates(v.right, dates)
        both = a.notna() & b.notna()
        out = pd.Series([None] * len(dates), index=dates.index, dtype=object)
        if both.any():
            out[both] = a[both].astype(str) + SEP + b[both].astype(str)
        return out
