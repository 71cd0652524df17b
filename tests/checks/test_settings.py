"""System checks name the exact setting at fault and never echo a secret."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_babysea.conf import babysea_settings

from .helpers import GOOD, babysea_checks, babysea_messages


def test_good_settings_pass() -> None:
    assert babysea_messages() == {}


def test_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BABYSEA_API_KEY", raising=False)
    messages = babysea_messages(API_KEY=None)
    assert messages == {"django_babysea.E001": "BABYSEA['API_KEY'] is not set."}


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABYSEA_API_KEY", "bye_from_env_123")
    assert babysea_messages(API_KEY=None) == {}
    with override_settings(BABYSEA={}):
        assert babysea_settings.API_KEY == "bye_from_env_123"


def test_malformed_key_is_not_echoed() -> None:
    messages = babysea_messages(API_KEY="sk_live_do_not_print_me")
    assert list(messages) == ["django_babysea.E003"]
    assert "API_KEY" in messages["django_babysea.E003"]
    assert "do_not_print_me" not in messages["django_babysea.E003"]


def test_unknown_region() -> None:
    messages = babysea_messages(REGION="mars")
    assert messages == {"django_babysea.E002": "BABYSEA['REGION'] is 'mars'."}


@pytest.mark.parametrize("base_url", ["ftp://x", "not a url", 42])
def test_bad_base_url(base_url: object) -> None:
    assert list(babysea_messages(BASE_URL=base_url)) == ["django_babysea.E004"]


def test_no_webhook_secret_warns_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BABYSEA_WEBHOOK_SECRET", raising=False)
    assert list(babysea_messages(WEBHOOK_SECRETS=[])) == ["django_babysea.W001"]
    with override_settings(DEBUG=True):
        assert babysea_messages(WEBHOOK_SECRETS=[]) == {}


def test_malformed_webhook_secret_is_not_echoed() -> None:
    messages = babysea_messages(WEBHOOK_SECRETS=["whsec_ok_1", "plain-secret-value"])
    assert messages == {
        "django_babysea.E005": "BABYSEA['WEBHOOK_SECRETS'] entry 1 does not look like a "
        "BabySea signing secret."
    }


def test_webhook_secrets_from_environment_allow_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABYSEA_WEBHOOK_SECRET", "whsec_new_1, whsec_old_2")
    with override_settings(BABYSEA={}):
        assert babysea_settings.WEBHOOK_SECRETS == ["whsec_new_1", "whsec_old_2"]


def test_unknown_storage_alias() -> None:
    messages = babysea_messages(STORAGE="s3-media")
    assert list(messages) == ["django_babysea.E006"]
    assert "'s3-media'" in messages["django_babysea.E006"]


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("babysea/{index}.{ext}", "lacks {generation_id}"),
        ("babysea/{generation_id}/{index}-{idx}.{ext}", "unknown field(s) {idx}"),
        ("/abs/{generation_id}/{index}", "relative path"),
        ("../{generation_id}/{index}", "relative path"),
        ("babysea/{generation_id/{index}", "not a valid template"),
        ("", "non-empty string"),
        (None, "non-empty string"),
    ],
)
def test_bad_upload_to(template: object, fragment: str) -> None:
    messages = babysea_messages(UPLOAD_TO=template)
    assert list(messages) == ["django_babysea.E007"]
    assert fragment in messages["django_babysea.E007"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TIMEOUT", 0),
        ("TIMEOUT", "30"),
        ("MAX_RETRIES", -1),
        ("MAX_RETRIES", True),
        ("WEBHOOK_TOLERANCE", 0),
        ("MAX_OUTPUT_BYTES", 0),
        ("USER_DAILY_BUDGET", "-1"),
        ("USER_DAILY_BUDGET", "lots"),
        ("USE_CELERY", "yes"),
        ("OUTPUT_RETENTION_HOURS", 0),
        ("OUTPUT_RETENTION_HOURS", "12"),
        ("COPY_TIMEOUT", 0.5),
        ("KEEP_LOCAL_COPIES", 1),
    ],
)
def test_bad_limits(key: str, value: object) -> None:
    messages = babysea_messages(**{key: value})
    assert list(messages) == ["django_babysea.E008"]
    assert f"BABYSEA['{key}']" in messages["django_babysea.E008"]


def test_bad_output_hosts() -> None:
    assert list(babysea_messages(OUTPUT_HOSTS="cdn.us.babysea.ai")) == ["django_babysea.E008"]


def test_unknown_key_warns() -> None:
    messages = babysea_messages(API_KYE="bye_typo")
    assert list(messages) == ["django_babysea.W002"]
    assert "API_KYE" in messages["django_babysea.W002"]
    assert "bye_typo" not in messages["django_babysea.W002"]


def test_not_a_dict() -> None:
    with override_settings(BABYSEA=["nope"]):
        ids = [m.id for m in babysea_checks()]
    assert ids == ["django_babysea.E010"]


def test_settings_are_read_lazily() -> None:
    with override_settings(BABYSEA={**GOOD, "REGION": "eu", "TIMEOUT": 5}):
        assert babysea_settings.REGION == "eu"
        assert babysea_settings.TIMEOUT == 5.0
    with override_settings(BABYSEA={**GOOD, "REGION": "jp"}):
        assert babysea_settings.REGION == "jp"
        assert babysea_settings.TIMEOUT == 30.0


def test_repr_hides_secrets() -> None:
    with override_settings(BABYSEA=GOOD):
        text = repr(babysea_settings)
    assert "bye_checks" not in text
    assert "whsec_" not in text
    assert "api_key=set" in text
