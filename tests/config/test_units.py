"""The systemd units in deploy/: sandboxed, and restarted with a pause."""

import subprocess
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).resolve().parents[2] / "deploy" / "systemd").glob("*.service"))
# systemd-analyze's exposure score, 0-100 (10x what it prints): the units scored 87
# ("EXPOSED") before they were sandboxed, 32 ("OK") after.
MAX_EXPOSURE = 40


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.stem)
def test_each_unit_is_sandboxed(unit):
    """Patients' details pass through these processes: a flaw in one must not reach the rest
    of the server (other users' homes, devices, kernel settings, new privileges)."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", f"--threshold={MAX_EXPOSURE}", unit],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.stem)
def test_each_unit_restarts_with_a_pause_and_keeps_its_files_private(unit):
    """Without RestartSec, five quick failures (a port still held, PostgreSQL restarting) in
    a few hundredths of a second and systemd gives up on the unit for good."""
    lines = unit.read_text().splitlines()

    assert "Restart=on-failure" in lines
    assert "RestartSec=2" in lines
    assert "UMask=0027" in lines  # an access log or export in var/ is not world-readable
    assert "User=spinal" in lines
