"""constraints.txt pins what the tests run with, so a server built later runs the same."""

import importlib.metadata
import re
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"
OWN = {"spinal-clinic-factsheets", "pip"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_tests_run_on_exactly_the_pinned_packages():
    """A package installed beside the pins (or at another version) would be tested here but
    not installed on a server from constraints.txt, or the other way round."""
    pinned = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[_canonical(name)] = version.strip()
    installed = {
        _canonical(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
        if _canonical(dist.metadata["Name"]) not in OWN
    }

    assert installed == pinned
