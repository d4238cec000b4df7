import pytest
from django.test import Client

from tests.factories import UserFactory

TRIAGE_STAFF = "Triage staff"
CONTENT_EDITOR = "Content editor"


@pytest.fixture
def triage_user(db):
    return UserFactory(
        username="tess", first_name="Tess", last_name="Triage", groups=[TRIAGE_STAFF]
    )


@pytest.fixture
def triage_client(triage_user) -> Client:
    client = Client()
    client.force_login(triage_user)
    return client


@pytest.fixture
def content_editor(db):
    return UserFactory(
        username="cole", first_name="Cole", last_name="Editor", groups=[CONTENT_EDITOR]
    )


@pytest.fixture
def editor_client(content_editor) -> Client:
    client = Client()
    client.force_login(content_editor)
    return client
