"""Billing's error types; genvid.http.errors turns each into the /api/ envelope with its status and code."""
from __future__ import annotations

from genvid.billing.ledger import InsufficientCredits
from genvid.errors import AppError

__all__ = [
    "BillingDisabled",
    "CheckoutNotFound",
    "EventOutOfOrder",
    "IdempotencyKeyReused",
    "InsufficientCredits",
    "InvalidSignature",
    "StripeFailed",
    "StripeUnavailable",
    "UnknownProduct",
]


class BillingDisabled(AppError):
    status, code = 503, "BILLING_DISABLED"
    message = "Billing is not configured on this server (no STRIPE_SECRET_KEY)."


class StripeUnavailable(AppError):
    """Stripe could not be reached or timed out: nothing was charged or stored; retrying later is safe."""

    status, code = 503, "STRIPE_UNAVAILABLE"
    message = "The payment provider is not reachable right now. Nothing was charged; please try again."


class StripeFailed(AppError):
    """Stripe answered with an error of its own (5xx, or a request it refused)."""

    status, code = 502, "STRIPE_ERROR"
    message = "The payment provider failed to answer. Nothing was charged; please try again."


class IdempotencyKeyReused(AppError):
    status, code = 409, "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was already used for a different request."


class UnknownProduct(AppError):
    status, code = 422, "UNKNOWN_PRODUCT"
    message = "No credit pack or plan has this id."


class CheckoutNotFound(AppError):
    status, code, message = 404, "CHECKOUT_NOT_FOUND", "No checkout session with this id."


class InvalidSignature(AppError):
    """A webhook whose Stripe-Signature does not verify (missing, tampered, other secret, or too old)."""

    status, code, message = 400, "INVALID_SIGNATURE", "The Stripe-Signature header does not verify."


class EventOutOfOrder(AppError):
    """An event that depends on one not received yet: answered non-2xx so Stripe delivers it again later."""

    status, code = 409, "EVENT_OUT_OF_ORDER"
    message = "This event refers to a payment not known yet; it will be applied when Stripe retries it."
