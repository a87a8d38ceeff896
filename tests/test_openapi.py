"""The OpenAPI document is valid OpenAPI 3.1 and describes every /api/ endpoint outside /api/auth."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

UNDOCUMENTED_PREFIXES = ("/api/auth/", "/api/openapi.json", "/api/docs")   # the last two describe the API


def test_document_validates_as_openapi_3_1(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_validator_rejects_a_broken_document(client) -> None:  # type: ignore[no-untyped-def]
    """Guard against a validator that accepts anything: an operation without responses must fail."""
    document = client.get("/api/openapi.json").get_json()
    document["paths"]["/api/broken"] = {"get": {"responses": "none"}}
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def test_every_api_endpoint_is_documented(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    """A new /api/ route without @documented fails here, so the document never falls behind."""
    document = client.get("/api/openapi.json").get_json()
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule.startswith(UNDOCUMENTED_PREFIXES):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (path, method.lower()) not in documented:
                missing.append(f"{method} {rule.rule}")
    assert not missing, missing
