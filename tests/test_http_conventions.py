"""Every /api/ answer is the documented envelope (genvid.http.envelope's models); request ids; health and
readiness basics."""
from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest
from conftest import start_app
from flask import Blueprint, Flask, Response
from pydantic import Field

from genvid.http.api import documented, ok, parse_body
from genvid.http.envelope import Envelope, Error
from genvid.request_models import Schema

ERROR_KEYS = {"success", "data", "error", "meta"}


class Greeting(Schema):
    name: str = Field(min_length=1, max_length=20)
    times: int = Field(ge=1, le=3)


def _probe_blueprint() -> Blueprint:
    """Routes that exercise the shared machinery (parse_body, error mapping) the way real handlers do."""
    bp = Blueprint("probe", __name__, url_prefix="/api/probe")

    @bp.post("/greet")
    @documented("Greet someone", body=Greeting, auth=False)
    def greet():  # type: ignore[no-untyped-def]
        body = parse_body(Greeting)
        return ok({"greeting": ", ".join([f"hello {body.name}"] * body.times)})

    @bp.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("database password is hunter2")

    @bp.get("/stream")
    def stream():  # type: ignore[no-untyped-def]
        def chunks():  # type: ignore[no-untyped-def]
            yield "first\n"
            logging.getLogger("genvid.probe").warning("while streaming")
            yield "second\n"
        return Response(chunks(), mimetype="text/plain")

    return bp


@pytest.fixture
def probe_client(app: Flask):  # type: ignore[no-untyped-def]
    app.register_blueprint(_probe_blueprint())
    return app.test_client()


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    Error.model_validate_json(response.data)          # the model the OpenAPI document describes errors by
    return body


def test_valid_body_answers_the_success_envelope(probe_client) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post("/api/probe/greet", json={"name": "Ada", "times": 2})
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": {"greeting": "hello Ada, hello Ada"},
                                   "error": None, "meta": None}
    Envelope[dict[str, str], None].model_validate_json(response.data)


def test_unknown_route_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert_error(client.get("/api/no-such-thing"), 404, "NOT_FOUND")


def test_wrong_method_is_405_with_allow(client) -> None:  # type: ignore[no-untyped-def]
    response = client.delete("/api/openapi.json")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_body_over_one_mebibyte_is_413(probe_client) -> None:  # type: ignore[no-untyped-def]
    payload = json.dumps({"name": "x" * (1024 * 1024)})
    response = probe_client.post("/api/probe/greet", data=payload, content_type="application/json")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_body_over_the_limit_is_refused_even_where_the_handler_would_not_read_it(probe_client) -> None:  # type: ignore[no-untyped-def]
    """/api/probe/boom never reads its body: the declared length alone refuses the request,
    before the handler."""
    response = probe_client.get("/api/probe/boom", data=b"x" * (1024 * 1024 + 1))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert probe_client.get("/api/probe/boom", data=b"x" * 1024).status_code == 500     # the handler ran


def test_wrong_content_type_is_415(probe_client) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post("/api/probe/greet", data="name=Ada", content_type="text/plain")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_malformed_json_is_400(probe_client) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post("/api/probe/greet", data='{"name": "Ada",', content_type="application/json")
    assert_error(response, 400, "MALFORMED_JSON")


def test_validation_failure_is_422_with_per_field_details(probe_client) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post("/api/probe/greet", json={"name": "", "times": "3", "extra": 1})
    body = assert_error(response, 422, "VALIDATION_ERROR")
    fields = {detail["field"] for detail in body["error"]["details"]}
    assert fields == {"name", "times", "extra"}


def test_non_object_body_is_422(probe_client) -> None:  # type: ignore[no-untyped-def]
    assert_error(probe_client.post("/api/probe/greet", json=[1, 2]), 422, "VALIDATION_ERROR")


def test_unexpected_error_is_500_without_internals(probe_client, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.ERROR):
        response = probe_client.get("/api/probe/boom")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in json.dumps(body)
    assert any("unhandled error" in record.getMessage() for record in caplog.records)


def test_request_id_is_kept_from_the_client(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/health", headers={"X-Request-ID": "req-123.abc"})
    assert response.headers["X-Request-ID"] == "req-123.abc"


def test_request_id_is_generated_when_absent_or_unsafe(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/health").headers["X-Request-ID"]
    second = client.get("/health",
                        headers={"X-Request-ID": "bad id; <script>" + "x" * 200}).headers["X-Request-ID"]
    assert len(first) == 32 and len(second) == 32 and first != second


def test_log_lines_are_json_with_request_id(capsys, config) -> None:  # type: ignore[no-untyped-def]
    """The access log line is one JSON object carrying method, path, status, duration and request id."""
    client = start_app(config.with_overrides(log_level="INFO")).test_client()
    capsys.readouterr()
    client.get("/health", headers={"X-Request-ID": "trace-me"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "genvid.access"]
    assert access, lines
    entry = access[-1]
    assert entry["request_id"] == "trace-me"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/health", 200)
    assert isinstance(entry["duration_ms"], float)


def test_log_lines_stay_json_whatever_extra_holds(capsys) -> None:  # type: ignore[no-untyped-def]
    """Fields passed in extra= are encoded however odd: non-string keys, dates, objects, huge integers."""
    from genvid.infra import logs
    logs.setup("INFO")
    capsys.readouterr()
    probe = logging.getLogger("genvid.probe")
    probe.info("odd keys",
               extra={"by_id": {7: "seven"}, "when": datetime(2026, 1, 2, tzinfo=UTC), "thing": object()})
    probe.info("huge int", extra={"big": 2**70})
    lines = {line["msg"]: line for line in map(json.loads, capsys.readouterr().out.splitlines())}
    assert lines["odd keys"]["by_id"] == {"7": "seven"}
    assert lines["odd keys"]["when"].startswith("2026-01-02") and "object" in lines["odd keys"]["thing"]
    assert lines["huge int"]["big"] == 2**70


def test_lines_written_while_a_response_streams_carry_its_request_id(probe_client, capsys) -> None:  # type: ignore[no-untyped-def]
    """Ids stay set until the server closes the body (SSE streams log with them), then are cleared."""
    from genvid.infra import logs
    logs.setup("INFO")
    capsys.readouterr()
    response = probe_client.get("/api/probe/stream", headers={"X-Request-ID": "streamed-1"})
    assert response.get_data(as_text=True) == "first\nsecond\n"
    response.close()        # what a WSGI server does once the body is sent
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    streamed = [line for line in lines if line.get("msg") == "while streaming"]
    assert streamed and streamed[0]["request_id"] == "streamed-1"
    assert logs.request_id_var.get() is None and logs.user_id_var.get() is None


def test_a_broken_stdout_never_fails_a_request(config) -> None:  # type: ignore[no-untyped-def]
    """A closed log pipe must cost the access line, not the request."""
    class BrokenPipe(io.TextIOBase):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    client = start_app(config.with_overrides(log_level="INFO")).test_client()
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "_genvid", False)]
    previous = handler.setStream(BrokenPipe())  # type: ignore[attr-defined]
    try:
        response = client.get("/health", headers={"X-Request-ID": "still-served"})
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "still-served"


def test_health_touches_nothing(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_ready_checks_both_dependencies(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"postgres": "ok", "redis": "ok"}


def test_cors_allows_credentials_only_for_trusted_origins(client) -> None:  # type: ignore[no-untyped-def]
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    trusted = client.options("/api/credits", headers={"Origin": "http://localhost:5173", **preflight})
    assert trusted.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert trusted.headers["Access-Control-Allow-Credentials"] == "true"
    untrusted = client.options("/api/credits", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in untrusted.headers


@pytest.mark.parametrize("created",
                         [0.0, 1.5, 1_795_689_118.0, 1_795_689_118.25, 1_795_689_118.999, 4_102_444_799.123])
def test_log_timestamps_read_as_isoformat_writes_them(created: float) -> None:
    from genvid.infra import logs
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert logs.timestamp(created) == expected
