"""The credit packs and subscription plans on sale, from Config (CONFIG_FILE `credit_packs` and `plans`)."""
from __future__ import annotations

from typing import Any

from genvid.billing.errors import UnknownProduct
from genvid.config import Config, CreditPack, Plan


def find_pack(config: Config, pack_id: str) -> CreditPack:
    """The pack with this id, or 422 UNKNOWN_PRODUCT."""
    for pack in config.credit_packs:
        if pack.id == pack_id:
            return pack
    raise UnknownProduct(details={"pack_id": pack_id})


def find_plan(config: Config, plan_id: str) -> Plan:
    """The plan with this id, or 422 UNKNOWN_PRODUCT."""
    for plan in config.plans:
        if plan.id == plan_id:
            return plan
    raise UnknownProduct(details={"plan_id": plan_id})


def plan_for_price(config: Config, price_id: str | None) -> Plan | None:
    """The configured plan sold at this Stripe price id (a plan change made in the Customer Portal)."""
    return next((plan for plan in config.plans if price_id and plan.price_id == price_id), None)


def pack_json(pack: CreditPack) -> dict[str, Any]:
    return {"id": pack.id, "name": pack.name, "credits": pack.credits, "amount": pack.amount,
            "currency": pack.currency, "price_id": pack.price_id}


def plan_json(plan: Plan) -> dict[str, Any]:
    return {"id": plan.id, "name": plan.name, "credits_per_period": plan.credits_per_period,
            "amount": plan.amount, "currency": plan.currency, "interval": plan.interval,
            "price_id": plan.price_id}


def pack_line_item(pack: CreditPack) -> dict[str, Any]:
    """A Checkout line item: the configured Stripe price, or an inline price_data one-time price."""
    if pack.price_id:
        return {"price": pack.price_id, "quantity": 1}
    return {"quantity": 1, "price_data": {"currency": pack.currency, "unit_amount": pack.amount,
                                          "product_data": {"name": pack.name}}}


def plan_line_item(plan: Plan) -> dict[str, Any]:
    """A Checkout line item for a subscription: the configured recurring price, or inline price_data."""
    if plan.price_id:
        return {"price": plan.price_id, "quantity": 1}
    return {"quantity": 1, "price_data": {"currency": plan.currency, "unit_amount": plan.amount,
                                          "recurring": {"interval": plan.interval},
                                          "product_data": {"name": plan.name}}}
