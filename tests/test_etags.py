"""The ETag rule shared by the admin's live status and the API's status endpoint."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from django_babysea.etags import etag_of, not_modified


def test_equal_payloads_share_a_tag_whatever_the_key_order() -> None:
    assert etag_of({"a": 1, "b": [2]}) == etag_of({"b": [2], "a": 1})
    assert etag_of({"a": 1}) != etag_of({"a": 2})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", False),
        ('"other"', False),
        ("{tag}", True),
        ('"other", {tag}', True),
        ("W/{tag}", True),
        ("*", True),
        ("garbage", False),
    ],
)
def test_if_none_match(header: str, expected: bool) -> None:
    tag = etag_of({"status": "pending"})
    request = RequestFactory().get("/", headers={"If-None-Match": header.format(tag=tag)})
    assert not_modified(request, tag) is expected
