"""The sandbox's public demo key and secret: an error with DEBUG off (E011), else W004."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_babysea.sandbox.defaults import DEMO_API_KEY, DEMO_WEBHOOK_SECRET

from .helpers import babysea_checks, babysea_messages

KEY_MESSAGE = "BABYSEA['API_KEY'] is the public demo key of the django-babysea sandbox"
SECRET_MESSAGE = (
    "BABYSEA['WEBHOOK_SECRETS'] contains the public demo signing secret of the django-babysea "
    "sandbox"
)


def test_demo_key_is_an_error_without_debug() -> None:
    messages = babysea_messages(API_KEY=DEMO_API_KEY)
    assert messages == {"django_babysea.E011": f"{KEY_MESSAGE}, and DEBUG is off."}


def test_demo_secret_among_others_is_an_error_without_debug() -> None:
    messages = babysea_messages(WEBHOOK_SECRETS=["whsec_own_1", DEMO_WEBHOOK_SECRET])
    assert messages == {"django_babysea.E011": f"{SECRET_MESSAGE}, and DEBUG is off."}


def test_demo_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABYSEA_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET)
    assert list(babysea_messages(WEBHOOK_SECRETS=None)) == ["django_babysea.E011"]


def test_both_are_warnings_under_debug() -> None:
    babysea = {"API_KEY": DEMO_API_KEY, "WEBHOOK_SECRETS": [DEMO_WEBHOOK_SECRET]}
    with override_settings(DEBUG=True, BABYSEA=babysea):
        messages = [(m.id, m.msg) for m in babysea_checks()]
    assert messages == [
        ("django_babysea.W004", f"{KEY_MESSAGE}."),
        ("django_babysea.W004", f"{SECRET_MESSAGE}."),
    ]


def test_messages_never_contain_the_values() -> None:
    babysea = {"API_KEY": DEMO_API_KEY, "WEBHOOK_SECRETS": [DEMO_WEBHOOK_SECRET]}
    with override_settings(BABYSEA=babysea):
        text = "\n".join(f"{m.msg} {m.hint}" for m in babysea_checks())
    assert text.count("public demo") == 2
    assert DEMO_API_KEY not in text
    assert DEMO_WEBHOOK_SECRET not in text
