"""The layering of the packages is a contract (pyproject.toml, [tool.importlinter]) that the tests enforce."""

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def lint_imports(config: Path | None = None) -> subprocess.CompletedProcess:
    command = [shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    if config is not None:
        command.append(str(config))
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_every_import_runs_down_the_layers():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_an_import_running_back_up_is_caught(tmp_path):
    """The same contracts with the ground floor moved to the top: every stage's use of the settings and
    the shared Korean helpers then runs back up, and the linter must say so."""
    config = tmp_path / "contracts.toml"
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    flipped = text.replace('"nlu", "stt", "core"]', '"core", "nlu", "stt"]')
    assert flipped != text
    config.write_text(flipped, "utf-8")
    result = lint_imports(config)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "nlu.normalize -> core.korean" in result.stdout
