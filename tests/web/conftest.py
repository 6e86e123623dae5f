"""Web fixtures: an app on a migrated database, accounts per role, signing in."""

from __future__ import annotations

import re

import pytest

from examroom.accounts.users import Accounts, Role
from examroom.live.feed import LiveFeed
from examroom_web import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def feed():
    return LiveFeed()


@pytest.fixture
def app(records, feed):
    return create_app(records, feed, {"TESTING": True, "SECRET_KEY": "test-secret", "SSE_KEEPALIVE_SECONDS": 0.05})


@pytest.fixture
def accounts(records):
    made = Accounts(records.sessions)
    for role in Role:
        made.create(role.value, PASSWORD, role, display_name=f"{role.value} 测试")
    return made


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    data = {"username": username, "password": password}
    if 'name="csrf_token"' in page:  # absent only where a test turned CSRF off
        data["csrf_token"] = csrf_token(page)
    return client.post("/login", data=data)


@pytest.fixture
def client(app, accounts):
    """A client signed in as a supervisor."""
    client = app.test_client()
    assert login(client, "supervisor").status_code == 302
    return client


@pytest.fixture
def artefacts(request):
    """This test's screenshot folder under test-artefacts/ (or $EXAMROOM_TEST_ARTEFACTS)."""
    from tests.web.browser import artefact_dir

    return artefact_dir(request.node.name)
