"""``manage.py babysea_status``: key, account, balance and provider health on one screen."""

from __future__ import annotations

from typing import Any

from django_babysea.conf import babysea_settings
from django_babysea.services import get_client

from ._babysea import BabySeaCommand

#: Characters of the configured key shown when BabySea reports no prefix.
KEY_PREFIX_LENGTH = 8


class Command(BabySeaCommand):
    help = "Check the API key and show the account, balance and inference provider health."

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
        # Where the calls go comes first, so that a failing call still says where it went:
        # BASE_URL when it is set, else the region's origin.
        self.stdout.write(f"BabySea   {client.base_url} (region {client.region})")
        self.stdout.flush()
        key = client.status()
        account = client.account()
        billing = client.billing()
        health = client.health.providers()
        prefix = key.apikey_prefix or babysea_settings.API_KEY[:KEY_PREFIX_LENGTH]
        name = f" ({key.apikey_name})" if key.apikey_name else ""
        email = f" <{account.account_email}>" if account.account_email else ""
        currency = billing.billing_currency or "credits"
        lines = [
            f"Key       {prefix}…{name}",
            f"Account   {account.account_name}{email} [{account.account_id}]",
            f"Plan      {billing.billing_plan or 'none'}"
            + (
                f" ({billing.billing_subscription_status})"
                if billing.billing_subscription_status
                else ""
            ),
            f"Balance   {billing.billing_credit_balance:.3f} {currency}",
            f"Providers {'healthy' if health.healthy else 'NOT healthy'}",
            f"  {'provider':<14}{'status':<12}{'failure rate':>13}{'attempts':>10}",
        ]
        lines += [
            f"  {p.provider:<14}{p.status:<12}{p.failure_rate:>12.1%}{p.window.total_attempts:>10}"
            for p in health.providers
        ]
        for line in lines:
            self.stdout.write(line)
