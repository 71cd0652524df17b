"""What every test of the Wagtail suite shares.

Wagtail's migrations store data its admin needs (the root page and collection, the default site,
the Editors and Moderators groups with their permissions). A transactional test flushes it, so
every transactional test here uses serialized rollback: the flush then leaves the tables empty
(no content types re-created under new ids) and the next test starts from the data as migrated.
When the test thread's connection lost the serialized copy (Playwright's event loop gives the
thread another connection object), the copy taken at the start of the run is loaded instead.

The session-wide browser, live server and screenshot folder of tests/browser are declared here
once for the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import browser, live_site, screenshot_dir, site_sandbox

__all__ = ["browser", "live_site", "migrated_data", "screenshot_dir", "site_sandbox"]

_BASELINE_FIXTURES = {"transactional_db", "live_server", "live_site"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("django_db")
        fixtures = set(getattr(item, "fixturenames", ()))
        transactional = bool(marker.kwargs.get("transaction")) if marker else False
        if not transactional and not (marker is None and fixtures & _BASELINE_FIXTURES):
            continue
        if marker is not None and marker.kwargs.get("serialized_rollback"):
            continue
        kwargs = {**(marker.kwargs if marker else {}), "transaction": True}
        item.add_marker(pytest.mark.django_db(**kwargs, serialized_rollback=True), append=False)


@pytest.fixture(scope="session")
def migrated_data(django_db_setup: None, django_db_blocker: Any) -> str:
    """The data Wagtail's migrations stored, as serialized when the test database was made."""
    from django.db import connection

    return str(getattr(connection, "_test_serialized_contents", ""))


@pytest.fixture(autouse=True)
def wagtail_baseline(request: pytest.FixtureRequest, migrated_data: str) -> Iterator[None]:
    """Transactional tests start with the migrated data, whichever connection they run on."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction") or not migrated_data:
        yield
        return
    from django.db import connection

    # Django restores the data at set-up, and flushes without re-creating content types at
    # tear-down, only for a connection that carries the serialized copy.
    connection._test_serialized_contents = migrated_data  # type: ignore[attr-defined]
    request.getfixturevalue("transactional_db")
    from wagtail.models import Collection

    if not Collection.objects.exists():  # set up before the copy was on this connection
        connection.creation.deserialize_db_from_string(migrated_data)
    yield
    connection._test_serialized_contents = migrated_data  # type: ignore[attr-defined]
