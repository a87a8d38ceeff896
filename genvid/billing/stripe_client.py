"""The stripe-python client genvid uses, pointed at STRIPE_API_BASE, and Stripe failures as API errors.

StripeClient does no retries unless told (the global API does 2): genvid asks for 2 network retries, which
the library makes with the same Idempotency-Key, and a 10 s timeout per attempt, so a checkout request
fails within about half a minute at worst. Both can be tuned in CONFIG_FILE (`stripe_max_network_retries`,
`stripe_timeout_seconds`).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import stripe

from genvid.billing.errors import (
    BillingDisabled,
    IdempotencyKeyReused,
    StripeFailed,
    StripeUnavailable,
)
from genvid.config import Config

log = logging.getLogger("genvid.billing.stripe")



def client(config: Config) -> stripe.StripeClient:
    """This configuration's Stripe client, or 503 BILLING_DISABLED when no STRIPE_SECRET_KEY is set."""
    if not config.stripe_secret_key:
        raise BillingDisabled()
    return _build(config.stripe_secret_key, config.stripe_api_base.rstrip("/"), config.stripe_timeout_seconds,
                  config.stripe_max_network_retries)


@lru_cache(maxsize=8)
def _build(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    # One client per setting: RequestsClient keeps a requests.Session per thread, so connections are reused.
    return stripe.StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=retries,
                               http_client=stripe.RequestsClient(timeout=timeout))


@contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Stripe's exceptions as genvid's: unreachable/timeout/429 -> 503, anything else Stripe says -> 502.

    The details (status, Stripe's request id and message) go to the log, never to the client.
    """
    try:
        yield
    except stripe.IdempotencyError as exc:
        _log(operation, exc)
        raise IdempotencyKeyReused() from None
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        _log(operation, exc)
        raise StripeUnavailable() from None
    except stripe.StripeError as exc:
        _log(operation, exc)
        raise StripeFailed() from None


def _log(operation: str, exc: stripe.StripeError) -> None:
    log.warning("stripe call failed", extra={
        "operation": operation, "error_type": type(exc).__name__, "http_status": exc.http_status,
        "stripe_request_id": exc.request_id, "stripe_code": exc.code, "stripe_message": exc.user_message,
    })
