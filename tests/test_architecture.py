"""The architecture contracts in .importlinter hold (pure layers, I/O only at the edges)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    # Scenario: a change makes the planner import HTTP, or Selligent code import Actito's.
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--config", str(REPO / ".importlinter")], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60


def test_no_file_or_function_is_too_long_to_read() -> None:
    # Scenario: a module grows past 400 lines or a function past 60 (def to last line).
    too_long = []
    for path in sorted((REPO / "reconciler").rglob("*.py")):
        text = path.read_text("utf-8")
        where = path.relative_to(REPO)
        if text.count("\n") > MAX_FILE_LINES:
            too_long.append(f"{where}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{where}:{node.lineno}: {node.name} has {lines} lines")
    assert too_long == []
