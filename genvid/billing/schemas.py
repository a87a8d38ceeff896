"""Request and response models of the billing API (validation and the OpenAPI document share them; responses
are the `data` of the envelope, which genvid.http.openapi adds)."""
from __future__ import annotations

from pydantic import BaseModel, Field

from genvid.request_models import QuerySchema, Schema


class CheckoutRequest(Schema):
    pack_id: str = Field(min_length=1, max_length=64)


class SubscribeRequest(Schema):
    plan_id: str = Field(min_length=1, max_length=64)


class LedgerQuery(QuerySchema):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=64)


class PackOut(BaseModel):
    id: str
    name: str
    credits: int
    amount: int | None
    currency: str
    price_id: str | None


class PlanOut(BaseModel):
    id: str
    name: str
    credits_per_period: int
    amount: int | None
    currency: str
    interval: str
    price_id: str | None





class CreditsOut(BaseModel):
    balance: int = Field(description="May be negative after a refund; renders are refused until topped up.")
    pending: int = Field(description="Credits of purchases whose delayed payment has not cleared yet.")



class LedgerEntryOut(BaseModel):
    id: str
    delta: int
    reason: str
    reference: str
    created_at: str



class RedirectOut(BaseModel):
    id: str | None = None
    url: str



class CheckoutStatusOut(BaseModel):
    id: str
    mode: str
    product_id: str
    credits: int
    status: str = Field(description="open, pending, paid, failed or expired (as the webhooks have told us)")



class StripeWebhookOut(BaseModel):
    received: bool
    result: str = Field(description="applied, duplicate or ignored")
