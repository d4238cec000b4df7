import os
import sys

import pytest
from django.contrib.auth.models import Group
from django.core import serializers
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


# The rows the migrations make in an empty database: the staff roles and their permissions.
MIGRATION_ROWS: list[str] = []


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if not Group.objects.exists():  # e.g. --reuse-db after a transactional test's flush
            pytest.exit("The test database has no staff roles: run without --reuse-db.", 2)
        MIGRATION_ROWS.append(
            serializers.serialize(
                "json",
                Group.objects.all(),
                use_natural_foreign_keys=True,
                use_natural_primary_keys=True,
            )
        )


@pytest.fixture
def _django_db_helper(_django_db_helper):
    """Every test that uses the database starts with the staff roles there. A transactional
    test empties every table when it ends, the roles included. pytest-django runs those tests
    last, but under xdist's worksteal a process that has run some may then take other tests
    from its neighbour, which found no roles and were refused by admin (403)."""
    if MIGRATION_ROWS and not Group.objects.exists():
        for row in serializers.deserialize("json", MIGRATION_ROWS[0]):
            row.save()


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
