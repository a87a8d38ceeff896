"""One operation of the OpenAPI document, described from its view's @documented metadata (OperationBuilder).

The answers every endpoint of a kind can give are added here rather than declared per view, so the document
cannot forget them: the envelope around `data`, 400 for malformed JSON, 401 and the Origin check's 403 where a
caller must be signed in, 404 where a path names a resource, 413 for a body over 1 MiB, 414 from gunicorn for
a request line over its limit, 415 and 422 for bodies, 429 where requests are rate limited, 503 while
PostgreSQL or Redis is down. Every pydantic model met on the way is added to the document's components once,
under its own name.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from genvid.http.api import IdConverter, Operation
from genvid.http.envelope import Error, envelope_model

_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "Redirect",
                400: "Malformed request", 401: "Not signed in", 402: "Not enough credits",
                403: "Forbidden: an untrusted Origin on a cookie request, or an API key this operation does "
                     "not take or that lacks its permission", 404: "Not found",
                405: "Method not allowed", 409: "Conflict", 413: "Body larger than 1 MiB",
                414: "Request line too long (refused by gunicorn before genvid sees it)",
                415: "Wrong content type", 422: "Validation failed",
                429: "Rate limited (on /api/auth by address; elsewhere an API key's rate limit or uses)",
                502: "Upstream failure",
                503: "Unavailable: a dependency is down or a limit is reached; see Retry-After"}
_UNSAFE = {"post", "put", "patch", "delete"}
_PATH_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_NOT_TOUCHING_STORAGE = {"openapi.openapi_document", "auth.ok", "auth.error_page"}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}
_BETTER_AUTH_RETRY_AFTER = {
    "X-Retry-After": {"description": "Seconds left in the rate-limit window (better-auth's "
                                     "header).", "schema": {"type": "string"}}}
_API_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying (absent when an API key's uses "
                                   "ran out: they come back only with a refill).",
                    "schema": {"type": "string"}}}

# Stateful testing (schemathesis) and readers: what a created video's (or batch's) id leads to.
_LINKS = {
    "videos.create_video": {
        "ShowVideo": {"operationId": "videos_show_video",
                      "parameters": {"video_id": "$response.body#/data/id"}},
        "DeleteVideo": {"operationId": "videos_delete_video",
                        "parameters": {"video_id": "$response.body#/data/id"}},
        "VideoEvents": {"operationId": "videos_video_events",
                        "parameters": {"video_id": "$response.body#/data/id"}},
    },
    "batches.create_batch": {
        name: {"operationId": f"batches_{operation}", "parameters": {"batch_id": "$response.body#/data/id"}}
        for name, operation in (("ShowBatch", "show_batch"), ("CancelBatch", "cancel_batch"),
                                ("BatchResults", "batch_results"), ("BatchResultsCsv", "batch_results_csv"),
                                ("BatchEvents", "batch_events"))
    },
    "outbound.create_endpoint": {
        name: {"operationId": operation, "parameters": {"endpoint_id": "$response.body#/data/id"}}
        for name, operation in (("ShowEndpoint", "outbound_show_endpoint"),
                                ("UpdateEndpoint", "outbound_update_endpoint"),
                                ("RotateSecret", "outbound_rotate_secret"),
                                ("ListDeliveries", "outbound_list_deliveries"),
                                ("DeleteEndpoint", "outbound_delete_endpoint"))
    },
    "auth.create_api_key": {
        "GetApiKey": {"operationId": "auth_get_api_key", "parameters": {"query.id": "$response.body#/id"}},
        "UpdateApiKey": {"operationId": "auth_update_api_key",
                         "requestBody": {"keyId": "$response.body#/id"}},
        "DeleteApiKey": {"operationId": "auth_delete_api_key",
                         "requestBody": {"keyId": "$response.body#/id"}},
    },
}


class OperationBuilder:
    """Describes operations, adding each pydantic model to the components once under its own name."""

    def __init__(self, components: dict[str, Any], models: dict[str, type[BaseModel]],
                 api_keys: Mapping[str, tuple[str, str]]) -> None:
        self.components = components
        self.models = models
        self.api_keys = api_keys

    def operation(self, rule: Any, view: Any, op: Operation, method: str) -> dict[str, Any]:
        """The Operation Object of one method of one URL rule whose view carries @documented (op)."""
        doc: dict[str, Any] = {
            "operationId": rule.endpoint.replace(".", "_"),
            "summary": op.summary,
            "tags": op.tags or [rule.endpoint.split(".")[0]],
        }
        description = (view.__doc__ or "").strip()
        permission = self.api_keys.get(rule.endpoint)
        if permission is not None:
            description = (description + "\n\n" if description else "") + \
                f"API keys: needs the permission `{permission[0]}:{permission[1]}`."
        if description:
            doc["description"] = description
        parameters = self._parameters(rule, op)
        if parameters:
            doc["parameters"] = parameters
        has_body = (op.body is not None or op.raw_body) and method != "get"    # a GET's body is never read
        if has_body:
            schema = self._schema(op.body) if op.body is not None else {}
            content: dict[str, Any] = {op.body_media_type: {"schema": schema}}
            for media_type, described in op.more_bodies.items():
                content[media_type] = self._nested(described)
            doc["requestBody"] = {"required": op.raw_body or not op.body_optional, "content": content}
        doc["responses"] = self._responses(rule, op, method, has_body=has_body,
                                           has_query=op.query is not None or bool(op.parameters))
        links = _LINKS.get(rule.endpoint)
        if links:
            doc["responses"][str(op.status)]["links"] = links
        if op.auth:
            doc["security"] = ([{"session": []}, {"bearer": []}] + ([{"apiKey": []}] if permission else [])
                               + ([{}] if op.optional_auth else []))
        return doc

    def _parameters(self, rule: Any, op: Operation) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = []
        converters = {name: kind for kind, name in _PATH_ARGUMENT.findall(rule.rule)}
        for name in sorted(rule.arguments):
            schema = dict(IdConverter.schema) if converters.get(name) == "id" else {"type": "string"}
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        if op.query is not None:
            query = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
            required = set(query.get("required", []))
            for name, prop in query.get("properties", {}).items():
                parameters.append({"name": name, "in": "query", "required": name in required,
                                   "schema": _query_value(prop)})
        parameters.extend(dict(parameter) for parameter in op.parameters)
        return parameters

    def _responses(self, rule: Any, op: Operation, method: str, *, has_body: bool,
                   has_query: bool) -> dict[str, Any]:
        responses: dict[str, Any] = {str(op.status): self._success(op)}
        for status, written in op.responses.items():
            responses[str(status)] = dict(written)
        statuses = set(op.errors) | {413, 414}
        if op.auth and not op.optional_auth:
            statuses.add(401)
        if op.auth and (method in _UNSAFE or not op.better_auth):
            statuses.add(403)        # the Origin check; outside /api/auth also an API key refused
        if rule.endpoint in self.api_keys:
            statuses.add(429)        # the key's rate limit or uses
        if rule.arguments:
            statuses.add(404)
        if has_body and not op.raw_body:
            statuses |= {400, 415} | ({400} if op.better_auth else {422})
        if has_query:
            statuses.add(400 if op.better_auth else 422)
        if op.better_auth:
            statuses.add(429)
        if rule.endpoint not in _NOT_TOUCHING_STORAGE:
            statuses.add(503)
        error = {"$ref": "#/components/schemas/AuthError"} if op.better_auth else self._schema(Error)
        for status in sorted(statuses - {int(code) for code in responses}):
            answer: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "Error")}
            if status == 414:
                answer["content"] = {"text/html": {"schema": {"type": "string"}}}
            elif not (status == 404 and op.better_auth):
                # (better-auth answers a path it does not route, e.g. a token holding U+0000, with an empty
                # 404)
                answer["content"] = {"application/json": {"schema": error}}
            if status == 503:
                answer["headers"] = _RETRY_AFTER
            elif status == 429:
                answer["headers"] = _BETTER_AUTH_RETRY_AFTER if op.better_auth else _API_RETRY_AFTER
            responses[str(status)] = answer
        return responses

    def _success(self, op: Operation) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": _STATUS_TEXT.get(op.status, "Success")}
        if op.media_type != "application/json":
            schema = self._schema(op.response) if op.response is not None else {"type": "string"}
            answer["content"] = {op.media_type: {"schema": schema}}
            return answer
        if op.better_auth:
            data = self._schema(op.response) if op.response is not None else {}
            answer["content"] = {"application/json": {"schema": data}}
            return answer
        if isinstance(op.response, Mapping):
            raise TypeError(f"{op.summary!r}: an enveloped JSON answer is described by a pydantic model")
        envelope = envelope_model(op.response, many=op.many, paged=op.paged)
        answer["content"] = {"application/json": {"schema": self._schema(envelope)}}
        return answer

    def _schema(self, described: type[BaseModel] | Mapping[str, Any]) -> dict[str, Any]:
        """A model's $ref (the model added to the components), or a written-out schema with every model class
        inside it replaced by its $ref."""
        if isinstance(described, Mapping):
            return {key: self._nested(value) for key, value in described.items()}
        name = described.__name__
        known = self.models.get(name)
        if known is not None and known is not described:
            raise RuntimeError(f"two models are called {name} ({known.__module__}, {described.__module__}): "
                               "rename one, the OpenAPI document names schemas by class name")
        if known is None:
            self.models[name] = described
            schema = described.model_json_schema(ref_template="#/components/schemas/{model}")
            for nested, definition in schema.pop("$defs", {}).items():
                self.components.setdefault(nested, definition)
            self.components[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def _nested(self, value: Any) -> Any:
        if isinstance(value, type) and issubclass(value, BaseModel):
            return self._schema(value)
        if isinstance(value, Mapping):
            return self._schema(value)
        if isinstance(value, list):
            return [self._nested(item) for item in value]
        return value


def _query_value(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: never null (a query string has no null; absent is the default), strings
    never empty (genvid.http.api.parse_query refuses an empty value)."""
    prop = dict(prop)
    options = prop.pop("anyOf", None)
    if options:
        concrete = [option for option in options if option.get("type") != "null"]
        if len(concrete) == 1:
            prop = {**concrete[0], **prop}
        else:
            prop["anyOf"] = concrete
    if prop.get("default") is None:
        prop.pop("default", None)
    if prop.get("type") == "string":
        prop["minLength"] = max(1, prop.get("minLength", 0))
    return prop
