"""Optional implementation-guide validation and 999 acknowledgements through pyx12.

pyx12 4.0 ships maps for 005010X222A1 (837P) and 005010X223A2 (837I) only. Files declaring a
later errata (X222A2, X223A3; or the older X223A1) are validated against those maps by
substituting the version in GS08/ST03 of an in-memory copy: the errata changed code lists and
situational notes, not the loop structure, so the structural result holds (errata-specific code
values are not checked). The 999 written for such a file echoes the file's own version.

pyx12 prints/logs segment text (patient data) while it validates; its logger is silenced and
its stdout/stderr captured for the duration of a call.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import logging
import os
import threading

from auditor.x12.tokens import issue, load_text, split_interchanges

_SUBSTITUTE = {
    "005010X222A2": "005010X222A1",
    "005010X223A3": "005010X223A2",
    "005010X223A1": "005010X223A2",
}
_LOCK = threading.Lock()  # pyx12's output capture swaps process-wide streams


def _source_name(path_or_bytes, source_name):
    if source_name:
        return source_name
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return "<bytes>"
    return os.path.basename(os.fspath(path_or_bytes))


def _prepare(text: str) -> tuple[str, dict[str, str]]:
    """Substitute unsupported errata versions; returns (text, {substitute: original})."""
    back: dict[str, str] = {}
    for orig, sub in _SUBSTITUTE.items():
        if orig in text:
            text = text.replace(orig, sub)
            back[sub] = orig
    return text, back


def _run_pyx12(text: str, want_999: bool) -> tuple[dict | None, str, str | None]:
    """Run pyx12 on text; returns (json error document or None, 999 text, fatal message)."""
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    fd_json, fd_999 = io.StringIO(), (io.StringIO() if want_999 else None)
    logger = logging.getLogger("pyx12")
    sink = io.StringIO()
    with _LOCK:
        old_level = logger.level
        logger.setLevel(logging.CRITICAL + 1)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                pyx12.x12n_document.x12n_document(
                    pyx12.params.params(), io.StringIO(text), fd_999, None, None, fd_json)
        except pyx12.errors.EngineError as exc:
            msg = str(exc).split(".")[0]  # e.g. "Map not found" (the rest may carry segment text)
            return None, "", f"pyx12 could not validate the file: {msg}"
        except Exception as exc:  # pyx12 raises assorted errors on badly broken files
            return None, "", f"pyx12 could not validate the file ({type(exc).__name__})"
        finally:
            logger.setLevel(old_level)
    raw = fd_json.getvalue()
    if not raw:
        return None, "", "pyx12 could not read the file (its ISA must be exactly 106 characters)"
    return json.loads(raw), (fd_999.getvalue() if fd_999 else ""), None


def _element_name(seg_id: str, ele: dict) -> str | None:
    pos = ele.get("ele_pos")
    if pos is None:
        return None
    name = f"{seg_id}{int(pos):02d}"
    if ele.get("subele_pos"):
        name += f"-{int(ele['subele_pos'])}"
    return name


def _claim_locator(text: str, source_name: str):
    """segment index -> claim id, from the claim ranges the reader finds."""
    from auditor.x12.reader import read_837

    res = read_837(text.encode("latin-1"), source_name)
    starts = [c.segment_index for c in res.claims]
    ends = [c.segment_index + len(c.segments) - 1 for c in res.claims]
    ids = [c.claim_id for c in res.claims]

    def locate(idx):
        if idx is None:
            return None
        k = bisect.bisect_right(starts, idx) - 1
        return ids[k] if k >= 0 and idx <= ends[k] else None

    return locate


def _issues_from(doc: dict, locate, offset: int) -> list[dict]:
    """Flatten pyx12's JSON error tree; ``offset`` turns interchange positions into file ones."""
    out: list[dict] = []

    def at(node):
        line = node.get("cur_line")
        return None if line is None else int(line) + offset

    def envelope(node, seg_id):
        for err in node.get("errors", []):
            out.append(issue(None, at(node), seg_id, None,
                             f"{err.get('err_str')} (code {err.get('err_cde')})"))

    for isa in doc.get("interchanges", []):
        envelope(isa, "ISA")
        for gs in isa.get("groups", []):
            envelope(gs, "GS")
            for st in gs.get("transactions", []):
                envelope(st, "ST")
                for seg in st.get("segments", []):
                    sid, idx = seg.get("seg_id"), at(seg)
                    cid = locate(idx)
                    for err in seg.get("errors", []):
                        out.append(issue(cid, idx, sid, None, f"{err.get('err_str')} (code {err.get('err_cde')})"))
                    for ele in seg.get("elements", []):
                        for err in ele.get("errors", []):
                            out.append(issue(cid, idx, sid, _element_name(sid, ele),
                                             f"{err.get('err_str')} (code {err.get('err_cde')})"))
    return out


def validate_837(path_or_bytes, source_name: str | None = None) -> list[dict]:
    """Validate an 837 against the pyx12 implementation-guide maps; returns issues (no "error" issue = valid).

    Issues have the reader's shape (claim_id resolved from the segment index where it falls in
    a claim). Raises ``InputError`` when the input is not X12.
    """
    return _validate(path_or_bytes, source_name, None)


def write_999(path_or_bytes, out_path, source_name: str | None = None) -> list[dict]:
    """Validate an 837 and write the pyx12 999 implementation acknowledgement to ``out_path``.

    Returns the validation issues. The 999 is written atomically; nothing is written when
    pyx12 cannot process the file at all (the returned issue says why).
    """
    return _validate(path_or_bytes, source_name, out_path)


def _validate(path_or_bytes, source_name, out_999) -> list[dict]:
    name = _source_name(path_or_bytes, source_name)
    text = load_text(path_or_bytes, name)
    interchanges = split_interchanges(text, name)  # InputError when not X12 at all
    locate = _claim_locator(text, name)
    issues: list[dict] = []
    acks: list[str] = []
    substituted: dict[str, str] = {}
    # pyx12 reads the delimiters of the first ISA only: give it one interchange at a time
    for ic in interchanges:
        term = ic.delimiters.segment
        ic_text = term.join(ic.segments) + term
        prepared, back = _prepare(ic_text)
        substituted.update(back)
        doc, ack, fatal = _run_pyx12(prepared, out_999 is not None)
        if fatal:
            issues.append(issue(None, ic.first_index, "ISA", None, fatal))
            continue
        found = _issues_from(doc, locate, ic.first_index - 1)
        issues.extend(found)
        if ack:
            for sub, orig in back.items():
                ack = ack.replace(sub, orig)
            acks.append(ack)
    for sub, orig in substituted.items():
        issues.append(issue(None, None, "GS", "GS08", f"{orig} validated with pyx12's {sub} map "
                            "(errata-specific code values not checked)", "warning"))
    if out_999 is not None and acks:
        from auditor.x12.writer import _atomic_write

        _atomic_write(out_999, "".join(acks).encode("latin-1"))
    return issues
