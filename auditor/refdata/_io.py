"""File access shared by the importers: zips, encodings, header detection, CMS date formats.

Every failure becomes an `InputError` whose message starts with the file (and zip member) name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from auditor.errors import InputError

XLSX_EXT = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Source:
    """One readable file: a plain file, or a member of a (possibly nested) zip archive."""

    path: Path  # the file named on the command line
    member: str | None  # member path inside the zip ("outer.zip" members joined with "!")
    data: bytes
    sha256: str  # of the file named on the command line: re-importing it is recognised

    @property
    def name(self) -> str:
        """Base name of the member (or of the file): what CMS names carry versions in."""
        return Path(self.member.split("!")[-1]).name if self.member else self.path.name

    @property
    def label(self) -> str:
        """How error messages name the file."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def is_xlsx(self) -> bool:
        return self.name.lower().endswith(XLSX_EXT) or (
            self.data[:2] == b"PK" and b"[Content_Types].xml" in self.data[:4096]
        )

    def error(self, msg: str, line: int | None = None, column: str | None = None) -> InputError:
        where = self.label
        if line is not None:
            where += f", {'row' if self.is_xlsx else 'line'} {line}"
        if column is not None:
            where += f", column '{column}'"
        return InputError(f"{where}: {msg}")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_zip(name: str, data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" and not name.lower().endswith(XLSX_EXT) and b"[Content_Types].xml" not in data[:4096]


def _members(path: Path, sha: str, prefix: str, data: bytes) -> list[Source]:
    out: list[Source] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        for n in names:
            base = Path(n).name
            if base.startswith((".", "~$")) or "__MACOSX" in n:
                continue  # resource forks and Office lock files that zips made on Macs carry
            blob = zf.read(n)
            member = f"{prefix}!{n}" if prefix else n
            if _is_zip(n, blob):  # MCD downloads are zips of zips
                out.extend(_members(path, sha, member, blob))
            else:
                out.append(Source(path, member, blob, sha))
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        raise InputError(f"{path}{'!' + prefix if prefix else ''}: not a readable zip archive ({exc})") from None
    return out


def expand(path: str | Path) -> list[Source]:
    """The file itself, or every member of it when it is a zip (nested zips flattened)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    sha = sha256_bytes(data)
    if _is_zip(path.name, data):
        return _members(path, sha, "", data)
    return [Source(path, None, data, sha)]


def pick(sources: list[Source], want: Callable[[Source], bool], what: str, path: Path) -> list[Source]:
    """Members of an archive that `want` accepts; one clear error when none is."""
    got = [s for s in sources if want(s)]
    if not got:
        names = ", ".join(s.name for s in sources[:12]) or "nothing"
        raise InputError(f"{path}: no {what} found in it (it holds: {names})")
    return got


def prefer_text(sources: list[Source]) -> list[Source]:
    """When CMS ships the same table as .txt/.csv and .xlsx, keep the text one (much faster)."""
    stems = {Path(s.name).stem.lower() for s in sources if not s.is_xlsx}
    return [s for s in sources if not (s.is_xlsx and Path(s.name).stem.lower() in stems)]


# ---------------------------------------------------------------------------------------------
# Text and spreadsheet grids


def encoding_of(data: bytes) -> str:
    """utf-8 (with or without BOM) when it decodes, else cp1252 (Windows exports)."""
    try:
        data.decode("utf-8")
        return "utf-8-sig" if data[:3] == b"\xef\xbb\xbf" else "utf-8"
    except UnicodeDecodeError:
        return "cp1252" if _cp1252_ok(data) else "latin-1"


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def norm(cell: object) -> str:
    """Header cell for matching: upper case, letters and digits only."""
    return re.sub(r"[^0-9A-Z]", "", str(cell or "").upper())


def cell_text(v: object) -> str:
    """A spreadsheet cell as the text the CSV variant of the same file would hold."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, (datetime, date)):
        return v.strftime("%Y%m%d")
    return str(v)


@dataclass
class Grid:
    """A table found in a file: the header rows seen above it and its data as strings."""

    header: list[str]  # the header row (cells as text)
    above: list[list[str]]  # the rows above the header, nearest last
    data: pd.DataFrame  # columns 0..n-1, every cell str ("" when empty)
    first_line: int  # 1-based line (or spreadsheet row) of data row 0

    def line(self, label: int) -> int:
        """File line / sheet row of the data row with index `label` (labels are row offsets
        from the first data row and survive filtering)."""
        return self.first_line + int(label)


def _xlsx_rows(src: Source) -> list[list[str]]:
    """The biggest worksheet's rows as text, read with python-calamine (a PTP part has ~500k rows:
    openpyxl reads ~4k rows/s, calamine is tens of times faster); openpyxl stays as the fallback."""
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_filelike(io.BytesIO(src.data))
        best: list[list[str]] = []
        for name in wb.sheet_names:  # the data sheet is the biggest one (others hold notices)
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            if len(rows) > len(best):
                best = rows
        return [[cell_text(v) for v in r] for r in best]
    except ImportError:
        pass
    except Exception:  # an unusual workbook: let openpyxl try (slower, more tolerant)
        pass
    return _xlsx_rows_openpyxl(src)


def _xlsx_rows_openpyxl(src: Source) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(src.data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise src.error(f"not a readable .xlsx workbook ({exc.__class__.__name__}: {exc})") from None
    try:
        best: list[list[str]] = []
        for ws in wb.worksheets:  # the data sheet is the biggest one (others hold notices)
            rows = [[cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
            if len(rows) > len(best):
                best = rows
        return best
    finally:
        wb.close()


def read_grid(
    src: Source,
    is_header: Callable[[list[str]], bool] | None,
    is_data: Callable[[list[str]], bool] | None = None,
    sep: str = ",",
    quoting: bool = True,
    max_scan: int = 300,
    what: str = "header row",
) -> Grid:
    """Find the table in a CSV/tab text or .xlsx file.

    The header row is the first row `is_header` accepts (within `max_scan` rows); data starts at
    the next row `is_data` accepts (default: the row right after the header). Notice lines, wrapped
    headers and blank lines before the data are skipped, whatever their number.
    """
    if src.is_xlsx:
        rows = _xlsx_rows(src)
        h, d = _locate(src, rows[:max_scan], is_header, is_data, what)
        body = rows[d:]
        width = max((len(r) for r in body), default=len(rows[h]) if h is not None else 0)
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in body], columns=range(width), dtype="str")
        frame = frame.fillna("")
        frame = frame[(frame != "").any(axis=1)]  # blank rows; index labels keep the sheet row
        header = rows[h] if h is not None else []
        if frame.empty:
            raise src.error("no data rows after the header")
        return Grid(header, rows[max(0, (h or 0) - 4) : h or 0], frame, d + 1)

    enc = encoding_of(src.data)
    text_head = src.data[: 1 << 20].decode(enc, errors="replace")
    reader = csv.reader(
        io.StringIO(text_head, newline=""), delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE
    )
    rows: list[list[str]] = []
    ends: list[int] = []  # physical lines consumed after each record (quoted cells span lines)
    try:
        for rec in reader:
            rows.append(rec)
            ends.append(reader.line_num)
            if len(rows) >= max_scan:
                break
    except csv.Error as exc:
        raise src.error(f"cannot parse ({exc})", line=reader.line_num) from None
    h, d = _locate(src, rows, is_header, is_data, what)
    skip_lines = ends[d - 1] if d > 0 else 0
    offset = _line_offset(src.data, skip_lines)
    body = src.data[offset:]
    width = max(len(rows[d]) if d < len(rows) else 0, len(rows[h]) if h is not None else 0)
    frame = _read_text(src, body, sep, quoting, enc, width, skip_lines + 1)
    if frame.empty:
        raise src.error("no data rows after the header")
    header = rows[h] if h is not None else []
    return Grid(header, rows[max(0, (h or 0) - 4) : h or 0], frame, skip_lines + 1)


def _locate(src, rows, is_header, is_data, what) -> tuple[int | None, int]:
    h = None
    if is_header is not None:
        h = next((i for i, r in enumerate(rows) if is_header(r)), None)
        if h is None:
            raise src.error(f"no {what} found in the first {len(rows)} rows; is this the right kind of file?")
    start = 0 if h is None else h + 1
    if is_data is None:
        return h, start
    d = next((i for i in range(start, len(rows)) if is_data(rows[i])), None)
    if d is None:
        raise src.error("no data rows found after the header")
    return h, d


def _line_offset(data: bytes, lines: int) -> int:
    pos = 0
    for _ in range(lines):
        nxt = data.find(b"\n", pos)
        if nxt < 0:
            return len(data)
        pos = nxt + 1
    return pos


def _read_text(src: Source, body: bytes, sep: str, quoting: bool, enc: str, width: int, first_line: int) -> pd.DataFrame:
    names = list(range(width))
    if not body.strip():
        return pd.DataFrame({i: pd.Series([], dtype="str") for i in names})
    if not quoting:
        # Unquoted tab text (NCCI PTP): pyarrow reads a million rows in a fraction of a second.
        import pyarrow as pa
        import pyarrow.csv as pacsv

        cols = [f"c{i}" for i in names]
        bad: list[str] = []

        def on_bad(row):  # a row with a different number of fields
            bad.append(row.text)
            return "error"

        try:
            tbl = pacsv.read_csv(
                io.BytesIO(body),
                read_options=pacsv.ReadOptions(column_names=cols, encoding="utf8" if enc.startswith("utf-8") else enc),
                parse_options=pacsv.ParseOptions(delimiter=sep, quote_char=False, invalid_row_handler=on_bad),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in cols}, strings_can_be_null=False
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            msg, line = str(exc).splitlines()[0], None
            if bad:
                msg = f"expected {width} tab-separated fields: {bad[0][:120]!r}"
                pos = body.find(bad[0].encode(enc if not enc.startswith("utf-8") else "utf-8", errors="replace"))
                line = first_line + body.count(b"\n", 0, pos) if pos >= 0 else None
            raise src.error(f"cannot parse ({msg})", line=line) from None
        df = tbl.to_pandas()
        df.columns = names
        return df
    try:
        df = pd.read_csv(
            io.BytesIO(body),
            sep=sep,
            header=None,
            names=names,
            dtype="str",
            keep_default_na=False,
            na_filter=False,
            encoding=enc,
            skip_blank_lines=False,  # keep one row per line so errors name the right line
            index_col=False,
        )
        df = df[(df != "").any(axis=1)]
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        m = re.search(r"line (\d+)", msg)
        line = first_line + int(m.group(1)) - 1 if m else None
        msg = re.sub(r"\s*(?:in |at )?line \d+,?", "", msg)
        raise src.error(f"cannot parse ({msg})", line=line) from None
    return df


def column_map(src: Source, header: list[str], wanted: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> dict[str, int]:
    """Map output names to header positions by normalized header text.

    wanted: output name -> accepted normalized header names (exact match first, then prefix).
    """
    normed = [norm(h) for h in header]
    out: dict[str, int] = {}
    for key, names in wanted.items():
        pos = next((i for n in names for i, h in enumerate(normed) if h == n), None)
        if pos is None:
            pos = next((i for n in names for i, h in enumerate(normed) if h and h.startswith(n)), None)
        if pos is not None:
            out[key] = pos
    missing = [k for k in required if k not in out]
    if missing:
        raise src.error(f"missing column(s) {', '.join(missing)} (header: {', '.join(h for h in header if h)})")
    return out


# ---------------------------------------------------------------------------------------------
# Values


def strip_upper(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip().str.upper()


def blank_to_na(s: pd.Series) -> pd.Series:
    s = s.astype("str").str.strip()
    return s.where(s != "")


def _clean_numbers(s: pd.Series) -> pd.Series:
    t = s.astype("str").str.strip()
    if t.str.endswith(".0").any():  # numbers that went through a spreadsheet
        t = t.str.replace(r"\.0$", "", regex=True)
    return t


def parse_dates(
    src: Source,
    grid: Grid,
    s: pd.Series,
    column: str,
    none_values: tuple[str, ...] = ("", "*"),
    julian: bool = False,
) -> pd.Series:
    """CMS date cells -> datetime64[ns]; `none_values` become NaT; anything else that does not
    parse is an error naming the file, line and column.

    Accepted: YYYYMMDD, YYYY-MM-DD, MM/DD/YYYY; with julian=True also YYYYDDD (NCCI AOC files).
    """
    t = _clean_numbers(s)
    none = t.isin(none_values)
    todo = ~none
    lens, digits = t.str.len(), t.str.isdigit().fillna(False).astype(bool)
    # The usual case first, in one vectorized pass: 8 digits (only those: "%Y%m%d" would also
    # read a 7-digit Julian date such as 2024011 as 2024-01-01).
    m8 = todo & (lens == 8) & digits
    out = pd.to_datetime(t.where(m8), format="%Y%m%d", errors="coerce").astype("datetime64[ns]")
    todo = todo & ~m8
    if julian:
        jm = todo & (lens == 7) & digits
        if jm.any():
            v = t[jm].astype("int64")
            year, doy = v // 1000, v % 1000
            okj = (doy >= 1) & (doy <= 366) & (year >= 1900)
            base = pd.to_datetime(year.where(okj, 2000).astype("str") + "0101", format="%Y%m%d")
            dates = (base + pd.to_timedelta(doy.where(okj, 1) - 1, unit="D")).astype("datetime64[ns]")
            dates[~okj] = pd.NaT
            dates[okj & (dates.dt.year != year)] = pd.NaT  # day 366 of a common year
            out[jm] = dates
            todo = todo & ~jm
    if todo.any():
        for pattern, fmt in ((r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"), (r"\d{1,2}/\d{1,2}/\d{4}", "%m/%d/%Y")):
            m = todo & t.str.fullmatch(pattern).fillna(False).astype(bool)
            if m.any():
                out[m] = pd.to_datetime(t[m], format=fmt, errors="coerce").astype("datetime64[ns]")
                todo = todo & ~m
    bad = (~none) & out.isna()
    if bad.any():
        i = bad[bad].index[0]
        raise src.error(f"not a date: {t.loc[i]!r}", line=grid.line(i), column=column)
    return out


def parse_int(src: Source, grid: Grid, s: pd.Series, column: str, allowed: tuple[int, ...] | None = None, dtype="int64") -> pd.Series:
    """Whole numbers; the first cell that is not one (or not in `allowed`) is an error."""
    t = _clean_numbers(s)
    try:
        v = t.astype("int64")  # fast path; the slow one below only finds the bad cell
        bad = ~v.isin(allowed) if allowed is not None else pd.Series(False, index=t.index)
    except (ValueError, TypeError):
        num = pd.to_numeric(t, errors="coerce")
        bad = num.isna() | (num != num.round())
        if allowed is not None:
            bad = bad | ~num.isin(allowed)
        v = None
    if bad.any():
        i = bad[bad].index[0]
        exp = f" (expected one of {', '.join(map(str, allowed))})" if allowed else ""
        raise src.error(f"not a valid number: {t.loc[i]!r}{exp}", line=grid.line(i), column=column)
    return v.astype(dtype)


def check_codes(src: Source, grid: Grid, s: pd.Series, column: str, pattern: str = r"[0-9A-Z]{5}") -> None:
    """Every cell must look like a code; names the first that does not."""
    bad = ~s.str.fullmatch(pattern).fillna(False).astype(bool)
    if bad.any():
        i = bad[bad].index[0]
        raise src.error(f"not a code: {s.loc[i]!r}", line=grid.line(i), column=column)
