"""Judge code holds no points and no thresholds: they all come from the rule set.

Scans the judge modules for numeric literals; only 0 and 1 (identities, fractions of an
interval) are allowed. A number a judge needs is a rule param or a [measurement] setting.
"""

import io
import tokenize
from pathlib import Path

import pytest

SCORING = Path(__file__).resolve().parents[2] / "scoring"
JUDGE_MODULES = sorted([SCORING / "judge.py", SCORING / "general.py", SCORING / "motion.py", SCORING / "pose_reading.py",
                        SCORING / "body_lines.py",
                        *(SCORING / "items").glob("*.py")])
ALLOWED = {0, 1}


@pytest.mark.parametrize("path", JUDGE_MODULES, ids=lambda p: p.name)
def test_no_numeric_literals_in_judge_code(path):
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    found = [(tok.start[0], tok.string) for tok in tokens
             if tok.type == tokenize.NUMBER and float(tok.string) not in ALLOWED]
    assert found == [], f"{path.name}: numeric literals {found}; put them in the rule set"


@pytest.mark.parametrize("path", JUDGE_MODULES, ids=lambda p: p.name)
def test_no_points_in_judge_code(path):
    text = path.read_text(encoding="utf-8")
    assert "points=" not in text.replace("points=rule.deducted", "")


def test_scoring_never_imports_the_layers_above():
    for path in SCORING.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for layer in ("devices", "examroom", "web"):
            assert f"import {layer}" not in text and f"from {layer}" not in text, (path, layer)
