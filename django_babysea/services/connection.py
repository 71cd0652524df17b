"""The one place a :class:`~django_babysea.client.BabySea` client is built from the settings.

Clients are cached per settings tuple, so ``override_settings`` (tests, a second site) gets its
own client while ordinary calls reuse one pool of connections. The key is only ever passed to
the client, never logged or put into a message.
"""

from __future__ import annotations

import threading
from typing import Final

from django_babysea.client import BabySea, ConfigurationError
from django_babysea.conf import babysea_settings

__all__ = ["clear_clients", "get_client"]

_Key = tuple[str, str, str | None, float, int, float]

#: Clients kept at most; the oldest is closed when a new settings tuple appears.
MAX_CLIENTS: Final = 8

_clients: dict[_Key, BabySea] = {}
_lock = threading.Lock()


def get_client() -> BabySea:
    """A client configured from ``settings.BABYSEA`` (API_KEY, REGION, BASE_URL, TIMEOUT,
    MAX_RETRIES, MAX_RETRY_AFTER). Raises :class:`~django_babysea.client.ConfigurationError`
    when no key is set."""
    api_key = babysea_settings.API_KEY
    if not api_key:
        raise ConfigurationError(
            "No BabySea API key: set BABYSEA['API_KEY'] or the BABYSEA_API_KEY environment "
            "variable."
        )
    key: _Key = (
        api_key,
        babysea_settings.REGION,
        babysea_settings.BASE_URL,
        babysea_settings.TIMEOUT,
        babysea_settings.MAX_RETRIES,
        babysea_settings.MAX_RETRY_AFTER,
    )
    with _lock:
        client = _clients.get(key)
        if client is None:
            if len(_clients) >= MAX_CLIENTS:
                oldest = next(iter(_clients))
                _clients.pop(oldest).close()
            client = BabySea(
                api_key,
                region=key[1],
                base_url=key[2],
                timeout=key[3],
                max_retries=key[4],
                max_retry_after=key[5],
            )
            _clients[key] = client
        return client


def clear_clients() -> None:
    """Close and forget every cached client (tests; after rotating the key)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
