"""`genvid catalog sync` and `genvid heygen register-webhook URL`."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from genvid import clock
from genvid.config import Config
from genvid.infra import database, services
from genvid.videos import catalogue, providers, webhooks
from genvid.videos.heygen import HeyGenProvider
from genvid.videos.provider_contract import ProviderError


def register(subparsers: Any) -> None:
    """Add this domain's commands to the `genvid` parser."""
    catalog = subparsers.add_parser("catalog", help="the avatar and voice catalogue")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    catalog_sub.add_parser("sync", help="fetch avatars and voices from the video provider now") \
        .set_defaults(func=cmd_catalog_sync)
    heygen = subparsers.add_parser("heygen", help="HeyGen account set-up")
    heygen_sub = heygen.add_subparsers(dest="heygen_command", required=True)
    register_webhook = heygen_sub.add_parser(
        "register-webhook", help="register URL (https, ending in /api/webhooks/heygen) for render events")
    register_webhook.add_argument("url")
    register_webhook.set_defaults(func=cmd_register_webhook)


def cmd_catalog_sync(_args: argparse.Namespace, config: Config) -> int:
    """Sync the configured provider's catalogue into the database."""
    config = services.start(config)
    provider = providers.get_provider(config)
    try:
        result = catalogue.sync(provider, now=clock.now())
    except ProviderError as exc:
        print(f"genvid: the {provider.name} catalogue could not be fetched: {exc}", file=sys.stderr)
        return 1
    print(f"catalogue synced from {provider.name}: {result.avatars} avatars, {result.voices} voices "
          f"({result.retired_avatars} avatars and {result.retired_voices} voices retired)")
    return 0


def cmd_register_webhook(args: argparse.Namespace, config: Config) -> int:
    """Register a webhook endpoint with HeyGen v3 and store its signing secret encrypted."""
    if not config.heygen_api_key:
        print("genvid: HEYGEN_API_KEY is not set", file=sys.stderr)
        return 2
    if not args.url.startswith("https://"):
        print("genvid: HeyGen only delivers to public https:// URLs", file=sys.stderr)
        return 2
    config = services.start(config)
    client = HeyGenProvider(config.heygen_api_key or "", config.heygen_api_base)
    try:
        endpoint_id, secret = client.register_webhook(args.url)
    except ProviderError as exc:
        print(f"genvid: HeyGen refused the webhook endpoint: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    with database.transaction() as conn:
        webhooks.save_endpoint(conn, endpoint_id=endpoint_id, url=args.url, secret=secret,
                               encryption_key=config.encryption_key, now=clock.now())
    print(f"webhook endpoint {endpoint_id} registered for {args.url}; its secret is stored encrypted")
    return 0
