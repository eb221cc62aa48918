"""Shared by the build tests: the repository and a command runner that shows what failed."""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(command, check_rc=True, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert result.returncode == 0 or not check_rc, f"{command}\n{result.stdout}\n{result.stderr}"
    return result
