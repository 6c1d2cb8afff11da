"""`lms rules check` and `lms rules validate` on good and bad input."""

import json
from pathlib import Path

RULES = "assessments/peer-support-l4/rules.toml"
EXAMPLE = Path("tests/unit/data/facts/example.json")


def test_check_prints_the_outcome_as_json(runner):
    result = runner.invoke(args=["rules", "check", "--rules", RULES, "--facts", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["award"] == "credit" and outcome["credits"] == 20 and outcome["level"] == 4
    assert set(outcome) >= {"award", "status", "credits", "level", "framework", "pass_mark", "attendance",
                            "assessments", "achievable", "missing"}


def test_validate_passes_the_course_rules(runner):
    result = runner.invoke(args=["rules", "validate", RULES])
    assert result.exit_code == 0 and "no problems found" in result.output


def test_bad_facts_exit_2_with_every_problem(runner, tmp_path):
    facts = json.loads(EXAMPLE.read_text())
    facts["as_of"] = "2026-03-01T12:00:00"  # no offset
    facts["attendance"]["attended"] = 14    # more than planned
    facts["assessments"]["accredited-assignment"]["attempts"][0]["mark"] = 140
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    result = runner.invoke(args=["rules", "check", "--rules", RULES, "--facts", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if "facts.json" in line]
    assert len(lines) >= 3, result.output


def test_unreadable_input_exits_2(runner, tmp_path):
    (tmp_path / "facts.json").write_text("{not json")
    result = runner.invoke(args=["rules", "check", "--rules", str(tmp_path / "missing.toml"),
                                 "--facts", str(tmp_path / "facts.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_bad_rules_list_every_problem_with_lines(runner, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('level = 4\nframework = "FHEQ"\ncredits = -20\ndays = 11\npass_mark = 140\ncolour = "blue"\n'
                    '[attendance]\nrequired_days = 12\n')
    result = runner.invoke(args=["rules", "validate", str(path)])
    assert result.exit_code == 2
    for line_number in (3, 5, 6, 8):
        assert f"rules.toml:{line_number}:" in result.output, result.output
