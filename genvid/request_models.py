"""The pydantic bases of the API's request models, free of Flask so the models (`<domain>/schemas.py`) can be
used by domain code too; genvid.http.api validates requests against them."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Base for request schemas: unknown keys are refused, strings are not coerced into numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


class QuerySchema(BaseModel):
    """Base for query-string schemas: values arrive as strings, so lax coercion is wanted here."""

    model_config = ConfigDict(extra="forbid")
