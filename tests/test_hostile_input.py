"""Hostile input at every endpoint of the OpenAPI document (so a new endpoint is covered the day it is
documented): U+0000 in path ids, query values and body strings, JSON nested 2,000 deep, strings of 100,000
characters. Never a 500: a 4xx in the path's documented shape (the envelope, or better-auth's on /api/auth),
or a success where the value is harmless (it is not stored).

PostgreSQL cannot store U+0000 in text; Python's json gives up on deep nesting that JavaScript (better-auth)
parses. tests/test_auth_hostile_interop.py holds /api/auth's answers to the real better-auth server's.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from factories import bearer, create_session, create_user
from fakes.stripe import WEBHOOK_SECRET, FakeStripe
from flask import Flask
from videos_fixtures import TEST_TUNING, Studio

NUL = "a\x00b"
DEEP = 2000
LONG = 100_000


class Api:
    """The document, and requests made the way its operations describe them."""

    def __init__(self, studio: Studio) -> None:
        self.client = studio.client
        self.document = studio.client.get("/api/openapi.json").get_json()
        _, self.auth = studio.user(credits=100)

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, methods in self.document["paths"].items():
            for method, operation in methods.items():
                yield method, path, operation

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def body_schema(self, operation: dict[str, Any]) -> dict[str, Any] | None:
        content = operation.get("requestBody", {}).get("content", {})
        return self.resolve(content["application/json"]["schema"]) if "application/json" in content else None

    def plausible_body(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Every required property with a value of its type (strings that a server would otherwise accept)."""
        body: dict[str, Any] = {}
        for name in schema.get("required", []):
            prop = self.resolve(schema.get("properties", {}).get(name, {}))
            kind = prop.get("type", "string")
            if prop.get("format") == "email":
                body[name] = f"hostile-{uuid.uuid4().hex[:8]}@example.com"
            elif "enum" in prop:
                body[name] = prop["enum"][0]
            elif kind == "boolean":
                body[name] = True
            elif kind == "integer":
                body[name] = 1
            else:
                body[name] = "password-123" if "assword" in name else "x"
        return body

    def string_properties(self, schema: dict[str, Any]) -> list[str]:
        return [name for name, prop in schema.get("properties", {}).items()
                if self.resolve(prop).get("type", "string") == "string"
                and not self.resolve(prop).get("enum")]

    def call(self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None,
             raw: bytes | None = None) -> Any:
        url = re.sub(r"\{[^}]+\}", "x", path)
        kwargs: dict[str, Any] = {"query_string": query or {},
                                  "headers": {**self.auth, "Origin": "http://localhost:5173"}}
        if raw is not None:
            kwargs.update(data=raw, content_type="application/json")
        elif body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return self.client.open(url, method=method.upper(), **kwargs)


@pytest.fixture
def api(make_app: Callable[..., Flask], fake_stripe: FakeStripe, make_studio: Callable[..., Studio]) -> Api:
    """Everything on: the offline renderer's catalogue, billing through the fake Stripe."""
    app = make_app(video_provider="local", stripe_secret_key=fake_stripe.api_key,
                   stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_base=fake_stripe.base_url, **TEST_TUNING)
    return Api(make_studio(app))


def assert_answered_in_shape(path: str, response: Any, what: str) -> None:
    """Below 500, and a refusal in the shape of its path."""
    assert response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:500])
    if response.status_code < 400:
        return
    if path.startswith("/api/auth/"):
        if response.status_code == 404 and not response.data:
            return                                   # better-auth's answer to a path it does not route
        body = response.get_json()
        assert isinstance(body, dict) and isinstance(body.get("message"), str), (what, response.data[:300])
        assert set(body) <= {"message", "code"}, (what, body)
    else:
        body = response.get_json()
        assert body is not None and set(body) == {"success", "data", "error", "meta"}, (what,
                                                                                        response.data[:300])
        assert body["success"] is False and body["error"]["code"], (what, body)


def test_nul_in_a_path_id_is_a_404_outside_auth(api: Api) -> None:
    checked = 0
    for method, path, _ in api.operations():
        if "{" not in path or path.startswith("/api/media/"):
            continue
        url = re.sub(r"\{[^}]+\}", "a%00b", path)
        response = api.client.open(url, method=method.upper(), headers=api.auth)
        if path.startswith("/api/auth/"):   # better-auth's rules (e.g. a reset link redirects with an error)
            assert response.status_code in (302, 400, 404), (method, url, response.data[:300])
        else:
            assert response.status_code == 404, (method, url, response.data[:300])
        assert_answered_in_shape(path, response, f"{method} {url}")
        checked += 1
    assert checked >= 5


def test_nul_in_any_query_value_is_never_a_500(api: Api) -> None:
    checked = 0
    for method, path, operation in api.operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            query = {
                p["name"]: "x" for p in operation["parameters"] if p["in"] == "query" and p.get("required")}
            query[parameter["name"]] = NUL
            response = api.call(method, path, query=query)
            assert_answered_in_shape(path, response, f"{method} {path} ?{parameter['name']}=NUL")
            if not path.startswith("/api/auth/") and response.status_code == 422:
                fields = [detail["field"] for detail in response.get_json()["error"]["details"]]
                assert parameter["name"] in fields
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(("label", "value"), [("NUL", NUL), ("long", "y" * LONG)],
                         ids=["nul", "100000_characters"])
def test_nul_or_100000_characters_in_any_body_string_is_never_a_500(api: Api, label: str, value: str) -> None:
    checked = 0
    for method, path, operation in api.operations():
        schema = api.body_schema(operation)
        if schema is None:
            continue
        for name in api.string_properties(schema):
            response = api.call(method, path, body={**api.plausible_body(schema), name: value})
            assert_answered_in_shape(path, response, f"{method} {path} {name}={label}")
            checked += 1
    assert checked >= 20


def test_json_nested_2000_deep_is_never_a_500(api: Api) -> None:
    deep = "[" * DEEP + "1" + "]" * DEEP
    checked = 0
    for method, path, operation in api.operations():
        if "requestBody" not in operation:
            continue
        schema = api.body_schema(operation) or {}
        bodies = [deep.encode()]
        for name in list(schema.get("properties", {}))[:2]:
            bodies.append(
                json.dumps({**api.plausible_body(schema), name: "__deep__"}).replace('"__deep__"', deep)
                .encode())
        for raw in bodies:
            response = api.call(method, path, raw=raw)
            assert_answered_in_shape(path, response, f"{method} {path} deep")
            checked += 1
    assert checked >= 20


def test_long_names_and_emails_are_refused_not_stored(local_studio: Studio, conn) -> None:  # type: ignore[no-untyped-def]
    """better-auth stores a 100,000-character email and name; genvid refuses them with better-auth's
    VALIDATION_ERROR shape (names 256, emails 254, image URLs 2,048 characters at most)."""
    client = local_studio.client
    origin = {"Origin": "http://localhost:5173"}
    long_email = client.post("/api/auth/sign-up/email", headers=origin, json={
        "name": "Long", "email": "a" * LONG + "@example.com", "password": "password-123"})
    assert long_email.status_code == 400
    assert long_email.get_json() == {
        "message": "[body.email] Too big: expected string to have <=254 characters",
                                     "code": "VALIDATION_ERROR"}
    long_name = client.post("/api/auth/sign-up/email", headers=origin, json={
        "name": "n" * LONG, "email": "long@example.com", "password": "password-123"})
    assert long_name.status_code == 400
    assert long_name.get_json()["message"] == "[body.name] Too big: expected string to have <=256 characters"
    assert conn.execute('SELECT count(*) FROM "user" WHERE length(name) > 256 OR length(email) > 254'
                        ).fetchone() == (0,)

    user = create_user(conn)
    update = client.post("/api/auth/update-user",
                         headers={**origin, **bearer(create_session(conn, user_id=user.id))},
                         json={"name": "n" * LONG, "image": "i" * 3000})
    assert update.status_code == 400
    assert update.get_json()["message"] == ("[body.name] Too big: expected string to have <=256 characters; "
                                            "[body.image] Too big: expected string to have <=2048 characters")
    assert conn.execute('SELECT name FROM "user" WHERE id = %s', (user.id,)).fetchone() == ("Test User",)


def test_nul_in_what_the_video_api_stores_is_a_422_naming_the_field(local_studio: Studio) -> None:
    user_id, headers = local_studio.user(credits=10)
    avatar_id, voice_id = local_studio.first_ids()
    for field, value in (("avatar_id", NUL), ("voice_id", NUL), ("title", NUL), ("script", NUL)):
        body = {"avatar_id": avatar_id, "voice_id": voice_id, "script": "Hello", field: value}
        response = local_studio.client.post("/api/videos", json=body, headers=headers)
        assert response.status_code == 422, (field, response.get_json())
        assert [d["field"] for d in response.get_json()["error"]["details"]] == [field]
    for query in ("status=queued%00", "cursor=a%00b", "limit=1&limit=2", "cursor="):
        response = local_studio.client.get(f"/api/videos?{query}", headers=headers)
        assert response.status_code == 422, (query, response.get_json())
    assert local_studio.balance(user_id) == 10
