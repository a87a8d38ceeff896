"""The OpenAPI document is valid OpenAPI 3.1, describes every /api/ endpoint (better-auth's /api/auth
included), and tells the truth about what they answer (tests/test_api_fuzz.py holds the server to it at
length)."""
from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from flask import Flask
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from videos_fixtures import Studio

UNDOCUMENTED_PREFIXES = ("/api/openapi.json", "/api/docs")   # they describe the API


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


def _body_schema(document: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    content = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
    return {**content["schema"], "components": document["components"]}     # its $refs resolve from here


def _assert_matches(document: dict[str, Any], path: str, method: str, response: Any) -> None:
    schema = _body_schema(document, path, method, response.status_code)
    jsonschema.Draft202012Validator(schema).validate(response.get_json())


def test_success_bodies_are_what_the_document_says(local_studio: Studio) -> None:
    """The envelope around data (a list, with meta.next_cursor, where there are many), and better-auth's bare
    bodies on /api/auth: before, seven operations documented the bare item although the envelope was sent."""
    document = local_studio.client.get("/api/openapi.json").get_json()
    _, headers = local_studio.user(credits=10)
    client = local_studio.client
    created = local_studio.create(headers)
    assert created.status_code == 202
    video_id = created.get_json()["data"]["id"]
    calls = [
        ("/api/avatars", "get", client.get("/api/avatars", headers=headers)),
        ("/api/voices", "get", client.get("/api/voices?limit=1", headers=headers)),
        ("/api/videos", "post", created),
        ("/api/videos", "get", client.get("/api/videos", headers=headers)),
        ("/api/videos/{video_id}", "get", client.get(f"/api/videos/{video_id}", headers=headers)),
        ("/api/videos/{video_id}", "delete", client.delete(f"/api/videos/{video_id}", headers=headers)),
        ("/api/credits", "get", client.get("/api/credits", headers=headers)),
        ("/api/credits/ledger", "get", client.get("/api/credits/ledger", headers=headers)),
        ("/api/billing/packs", "get", client.get("/api/billing/packs")),
        ("/api/auth/get-session", "get", client.get("/api/auth/get-session", headers=headers)),
        ("/api/auth/get-session", "get", client.get("/api/auth/get-session")),
        ("/api/auth/list-sessions", "get", client.get("/api/auth/list-sessions", headers=headers)),
        ("/api/auth/token", "get", client.get("/api/auth/token", headers=headers)),
        ("/api/auth/jwks", "get", client.get("/api/auth/jwks")),
    ]
    for path, method, response in calls:
        assert response.status_code in (200, 202), (path, response.data[:300])
        _assert_matches(document, path, method, response)
    with pytest.raises(jsonschema.ValidationError):   # the check can fail: a bare item is not the envelope
        jsonschema.Draft202012Validator(
            _body_schema(document, "/api/videos/{video_id}", "get", 200)).validate(
            created.get_json()["data"])


def test_errors_any_endpoint_can_give_are_documented(client) -> None:  # type: ignore[no-untyped-def]
    """413 and 414 everywhere, 503 wherever storage is touched, 400/415/422 with a JSON body, 429 on
    /api/auth, 404 where a path names a resource, each in its path's error shape."""
    document = client.get("/api/openapi.json").get_json()
    create = document["paths"]["/api/videos"]["post"]["responses"]
    assert {"400", "401", "402", "403", "413", "414", "415", "422", "503"} <= set(create)
    assert create["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "text/html" in create["414"]["content"]                      # gunicorn's own page
    assert "Retry-After" in create["503"]["headers"]
    sign_in = document["paths"]["/api/auth/sign-in/email"]["post"]["responses"]
    assert {"400", "403", "413", "415", "429", "503"} <= set(sign_in)
    assert sign_in["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuthError"}
    show = document["paths"]["/api/videos/{video_id}"]["get"]
    assert "404" in show["responses"]
    assert show["parameters"][0]["schema"]["pattern"] == "^[^/\x00]+$"
    listing = document["paths"]["/api/videos"]["get"]["parameters"]
    assert all(p["schema"].get("minLength", 1) >= 1 for p in listing if p["schema"].get("type") == "string")
    links = document["paths"]["/api/videos"]["post"]["responses"]["202"]["links"]
    assert links["ShowVideo"]["parameters"] == {"video_id": "$response.body#/data/id"}


def test_repeated_or_empty_query_parameters_are_refused(local_studio: Studio) -> None:
    """The document allows neither (a query parameter is a single, non-empty value),
    and neither does the API."""
    _, headers = local_studio.user(credits=0)
    for query in ("limit=1&limit=2", "gender=", "premium=true&premium=false"):
        response = local_studio.client.get(f"/api/avatars?{query}", headers=headers)
        assert response.status_code == 422, (query, response.get_json())
        assert response.get_json()["error"]["details"][0]["type"] in ("repeated", "empty")
