"""`auditor history` commands."""

from __future__ import annotations

import pytest

from auditor.cli import main


def run(capsys, *argv) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    return exc.value.code, capsys.readouterr().out


def test_history_commands(tmp_path, capsys):
    h = ["--history", str(tmp_path / "h.sqlite")]
    code, out = run(capsys, "history", "migrate", *h)
    assert code == 0 and "revision 0001" in out
    code, out = run(capsys, "history", "waiver", "add", *h, "--rule", "DQ004", "--provider", "1234567893",
                    "--reason", "vendor defect", "--approved-by", "QA", "--expires", "2099-01-01")
    assert code == 0 and "waiver db-1 recorded" in out
    assert run(capsys, "history", "waiver", "add", *h, "--rule", "DQ004", "--reason", "r", "--approved-by", "QA",
               "--expires", "2099-01-01")[0] == 2                      # a bare rule is --ignore, not a waiver
    code, out = run(capsys, "history", "waiver", "list", *h)
    assert code == 0 and "db-1" in out and "1 waivers" in out
    assert run(capsys, "history", "waiver", "revoke", *h, "db-1") == (0, "waiver db-1 revoked\n")
    assert "0 waivers" in run(capsys, "history", "waiver", "list", *h)[1]
    assert "0 runs" in run(capsys, "history", "runs", *h)[1]
    assert run(capsys, "history", "runs", "--history", "postgresql://nobody@127.0.0.1:1/none")[0] == 2
