"""Rule text is parsed with a whitelist; anything else is rejected at load time with file and line."""

import pytest

from auditor.errors import RuleError
from auditor.rules import expr
from auditor.rules.loader import load_rules

UNSAFE = [
    '__import__("os").system("echo hi")',
    "units.__class__",
    "().__class__.__bases__[0]",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('x=1')",
    "lambda: 1",
    "[x for x in units]",
    "units if charge else 0",
    "units[0]",
    "getattr(units, 'real')",
    "charge ** 2",
    "units @ charge",
    "x := 1",
    "f'{units}'",
    "b'bytes' == units",
    "ref.a.b",
    "units(1)",
    "missing(units, key=1)",
    "a.__dict__",
]


@pytest.mark.parametrize("text", UNSAFE)
def test_unsafe_expressions_rejected(text):
    with pytest.raises(RuleError) as err:
        expr.parse(text, path="rules/x/BAD001.yaml", line=7, namespaces={"ref"})
    assert "rules/x/BAD001.yaml:7" in str(err.value)


def test_allowed_expression_parses_to_ir():
    node = expr.parse("units > ref.mue_value and not any_in(modifiers, [\"59\", \"XU\"])", namespaces={"ref"})
    assert isinstance(node, expr.Op) and node.op == "and"
    assert ("ref", "mue_value") in expr.columns_used(node)


def test_unknown_list_and_param_rejected():
    with pytest.raises(RuleError, match="unknown named list"):
        expr.parse("procedure_code in EM_NOPE")
    with pytest.raises(RuleError, match="unknown parameter"):
        expr.parse("units > param.nope")


def test_regex_must_be_valid_literal():
    with pytest.raises(RuleError, match="bad regular expression"):
        expr.parse('matches(procedure_code, "[")')
    with pytest.raises(RuleError, match="literal pattern"):
        expr.parse("matches(procedure_code, member_id)")


def _write_rule(tmp_path, body):
    d = tmp_path / "myrules" / "custom"
    d.mkdir(parents=True)
    p = d / "ZZ001-test.yaml"
    p.write_text(body)
    return tmp_path / "myrules", p


BASE = """id: ZZ001
title: t
category: modifier
severity: warning
description: d
reference: r
fix: f
message: "m {procedure_code}"
kind: line
"""


def test_rule_file_with_unsafe_condition_names_file_line_and_construct(tmp_path):
    folder, path = _write_rule(tmp_path, BASE + "when: __import__('os').getcwd() == 1\n")
    with pytest.raises(RuleError) as err:
        load_rules([folder], include_default=False)
    msg = str(err.value)
    assert str(path) in msg and ":10:" in msg and "__import__" in msg


def test_unsafe_message_template_rejected(tmp_path):
    folder, path = _write_rule(tmp_path, BASE.replace('"m {procedure_code}"', '"{units.__class__}"') + "when: units > 1\n")
    with pytest.raises(RuleError, match="ZZ001-test.yaml:8"):
        load_rules([folder], include_default=False)


@pytest.mark.parametrize("patch,needle", [
    ("category: modifier", "category: nonsense"),
    ("severity: warning", "severity: fatal"),
    ("id: ZZ001", "id: lower1"),
    ("kind: line", "kind: magic"),
])
def test_bad_metadata_rejected(tmp_path, patch, needle):
    folder, _ = _write_rule(tmp_path, BASE.replace(patch, needle) + "when: units > 1\n")
    with pytest.raises(RuleError):
        load_rules([folder], include_default=False)


def test_unknown_key_and_bad_yaml(tmp_path):
    folder, _ = _write_rule(tmp_path, BASE + "when: units > 1\nwhne: typo\n")
    with pytest.raises(RuleError, match="whne"):
        load_rules([folder], include_default=False)
    (folder / "custom" / "ZZ001-test.yaml").write_text("id: [unclosed\n")
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules([folder], include_default=False)


def test_no_eval_anywhere_in_package():
    """The engine never hands text to eval/exec/query/pandas.eval."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "auditor"
    pattern = re.compile(r"(?<![\w.])(eval|exec)\(|\.query\(|pd\.eval\(|pandas\.eval\(")
    offenders = [f"{p}:{i}" for p in root.rglob("*.py") for i, line in enumerate(p.read_text().splitlines(), 1)
                 if pattern.search(line) and not line.strip().startswith("#")]
    assert not offenders, offenders
