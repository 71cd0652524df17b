"""An S3-protocol server on loopback (moto) and a django-storages alias that writes into it.

The server runs in a thread of the test process for the whole module; each test gets a bucket of
its own, so what a test finds in its bucket is exactly what it stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import boto3
import pytest
from botocore.config import Config
from django.conf import settings
from django.core.files.storage import storages
from django.test import override_settings
from moto.server import ThreadedMotoServer

from django_babysea.sandbox import Sandbox
from django_babysea.services.connection import clear_clients
from tests.services.conftest import sandbox_settings

ALIAS: Final = "babysea_s3"
REGION: Final = "us-east-1"
ACCESS_KEY: Final = "testing-access-key"
SECRET_KEY: Final = "testing-secret-key"
# Path-style addressing: a bucket can't be a subdomain of 127.0.0.1.
ADDRESSING: Final = {"addressing_style": "path"}


@dataclass(frozen=True)
class S3Bucket:
    """One bucket on the loopback server, and a boto3 client to look into it directly."""

    endpoint_url: str
    name: str
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        return body

    def head(self, key: str) -> dict[str, Any]:
        head: dict[str, Any] = self.client.head_object(Bucket=self.name, Key=key)
        return head


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server on 127.0.0.1 (a port the system picks)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> S3Bucket:
    """A new, empty bucket for one test."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3=ADDRESSING),
    )
    name = f"babysea-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    return S3Bucket(endpoint_url=s3_endpoint, name=name, client=client)


def s3_storages(bucket: S3Bucket, **options: Any) -> dict[str, Any]:
    """``STORAGES`` with the extra alias :data:`ALIAS`: django-storages' S3 backend on
    ``bucket``, with signed (query-string) URLs. ``options`` override the backend's."""
    return {
        **settings.STORAGES,
        ALIAS: {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket.name,
                "endpoint_url": bucket.endpoint_url,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": REGION,
                "addressing_style": "path",
                "querystring_auth": True,
                "signature_version": "s3v4",
                **options,
            },
        },
    }


def babysea_s3(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """``BABYSEA`` pointing at the sandbox and storing copies under :data:`ALIAS`."""
    return sandbox_settings(sandbox, **{"STORAGE": ALIAS, **overrides})


@pytest.fixture
def s3_sandbox(babysea_sandbox: Sandbox, s3_bucket: S3Bucket) -> Iterator[Sandbox]:
    """The sandbox (advanced by hand), with ``BABYSEA`` pointing at it and copies going to
    ``s3_bucket`` through the ``babysea_s3`` storage alias.

    ``override_settings(STORAGES=...)`` sends ``setting_changed``, on which Django empties the
    ``storages`` handler's cache, on entering and on leaving: no S3Storage built for this
    test's bucket outlives it.
    """
    babysea_sandbox.auto_advance = False
    with override_settings(STORAGES=s3_storages(s3_bucket), BABYSEA=babysea_s3(babysea_sandbox)):
        assert getattr(storages[ALIAS], "bucket_name", None) == s3_bucket.name
        yield babysea_sandbox
    clear_clients()
