"""Error types with stable codes: what went wrong, as a status, a machine code and a readable message.

Domain code raises them and knows nothing of HTTP; genvid.http.errors turns them (and every other failure)
into responses, in the shape of the path they happened on.
"""
from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A failure the client can act on: an HTTP status, a stable machine code, a readable message."""

    status: int = 500
    code: str = "INTERNAL_ERROR"
    message: str = "Something went wrong on our side."

    def __init__(self, code: str | None = None, message: str | None = None, *,
                 details: Any = None, headers: dict[str, str] | None = None) -> None:
        self.code = code or type(self).code
        self.message = message or type(self).message
        self.details = details
        self.headers = headers or {}
        super().__init__(f"{self.code}: {self.message}")


class BadRequest(AppError):
    status, code, message = 400, "BAD_REQUEST", "The request is malformed."


class Unauthorized(AppError):
    status, code, message = 401, "UNAUTHORIZED", "Sign in to do this."


class PaymentRequired(AppError):
    status, code, message = 402, "INSUFFICIENT_CREDITS", "Not enough credits."


class Forbidden(AppError):
    status, code, message = 403, "FORBIDDEN", "You may not do this."


class NotFound(AppError):
    status, code, message = 404, "NOT_FOUND", "Not found."


class Conflict(AppError):
    status, code, message = 409, "CONFLICT", "The resource is not in a state that allows this."


class ValidationFailed(AppError):
    status, code, message = 422, "VALIDATION_ERROR", "The request did not pass validation."


class TooManyRequests(AppError):
    status, code, message = 429, "RATE_LIMITED", "Too many requests. Please try again later."


class BadGateway(AppError):
    status, code, message = 502, "UPSTREAM_ERROR", "An outside service failed; nothing was changed."


class ServiceUnavailable(AppError):
    status, code, message = 503, "SERVICE_UNAVAILABLE", "The service is unavailable right now."


class BetterAuthError(Exception):
    """An error on `/api/auth/*`, answered byte-for-byte as better-auth answers it."""

    def __init__(self, status: int, message: str, code: str | None = None, *,
                 headers: dict[str, str] | None = None, empty: bool = False) -> None:
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.empty = empty            # better-call's ctx.error(STATUS) with no body: an empty JSON response
        super().__init__(f"{status} {code}: {message}")

    def body(self) -> dict[str, str]:
        body = {"message": self.message}
        if self.code is not None:
            body["code"] = self.code
        return body
