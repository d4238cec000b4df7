import os
import sys

import pytest
from django.core.cache import cache

from factsheets.cache import forget_everything
from factsheets.models import FactSheet
from factsheets.services import load_shipped_content


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER") and "tests.xdist_services" not in sys.modules:
        raise pytest.UsageError(
            "Run the tests in parallel through scripts/test.sh: it gives each test process its "
            "own Redis databases (tests/xdist_services.py)."
        )


@pytest.fixture(autouse=True)
def empty_page_cache():
    """Each test starts with nothing cached (tests change rows without signals, e.g. update())."""
    cache.clear()
    forget_everything()
    yield
    cache.clear()
    forget_everything()


@pytest.fixture
def shipped_sheets(db) -> dict[str, FactSheet]:
    """The fact sheets the product ships, loaded as the run command loads them."""
    return {sheet.slug: sheet for sheet, _ in load_shipped_content()}


@pytest.fixture
def spinal_metastases(shipped_sheets) -> FactSheet:
    return shipped_sheets["spinal-metastases"]


VALID_REPORT = {
    "report-name": "Ada Patient",
    "report-email": "ada@example.com",
    "report-consent": "on",
}

VALID_CONSULTATION = {
    "consultation-name": "Ben Patient",
    "consultation-email": "ben@example.com",
    "consultation-phone": "07911 123456",
    "consultation-best_time": "Weekday mornings",
    "consultation-contact_method": "phone",
    "consultation-description": "Low back pain for two weeks, worse at night.",
    "consultation-pain_duration": "1_to_6_weeks",
    "consultation-consent": "on",
}


@pytest.fixture
def valid_report() -> dict[str, str]:
    return dict(VALID_REPORT)


@pytest.fixture
def valid_consultation() -> dict[str, str]:
    return dict(VALID_CONSULTATION)
