"""The outbound webhooks API: /api/webhooks/endpoints (register, list, show, change, delete, rotate the
secret), each endpoint's delivery log, and redelivery. (/api/webhooks/stripe and /api/webhooks/heygen are
inbound webhooks, in the billing and videos blueprints.)
"""
from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from genvid import clock
from genvid.auth.current import current_user
from genvid.http.api import documented, ok, parse_body, parse_query
from genvid.http.app_config import app_config
from genvid.infra import database
from genvid.outbound import endpoints
from genvid.outbound.schemas import (
    CreateEndpoint,
    DeletedOut,
    DeliveryOut,
    DeliveryQuery,
    EndpointOut,
    EndpointWithSecretOut,
    RedeliveryOut,
    UpdateEndpoint,
    delivery_json,
    endpoint_json,
)

bp = Blueprint("outbound", __name__, url_prefix="/api/webhooks/endpoints")
TAGS = ["webhooks"]


@bp.post("")
@documented("Register a webhook endpoint; its whsec_ signing secret is in this answer only",
            body=CreateEndpoint,
            response=EndpointWithSecretOut, status=201, tags=TAGS, errors=(401, 403, 409, 415, 422))
def create_endpoint() -> ResponseReturnValue:
    """The URL is checked (https and public addresses in production); events go to it from now on."""
    user = current_user()
    body = parse_body(CreateEndpoint)
    config = app_config()
    with database.transaction() as conn:
        created = endpoints.create_endpoint(conn, user_id=user.id, url=body.url,
                                            event_types=list(body.event_types),
                                            description=body.description, enabled=body.enabled,
                                            encryption_key=config.encryption_key,
                                            production=config.is_production, now=clock.now())
    return ok(endpoint_json(created.endpoint, secret=created.secret), 201,
              headers={"Location": f"/api/webhooks/endpoints/{created.endpoint.id}"})


@bp.get("")
@documented("Your webhook endpoints", response=EndpointOut, many=True, tags=TAGS, errors=(401, 403))
def list_endpoints() -> ResponseReturnValue:
    """Oldest first; secrets are never shown again."""
    user = current_user()
    with database.connection() as conn:
        rows = endpoints.list_endpoints(conn, user_id=user.id)
    return ok([endpoint_json(row) for row in rows])


@bp.get("/<id:endpoint_id>")
@documented("One of your webhook endpoints", response=EndpointOut, tags=TAGS, errors=(401, 403, 404))
def show_endpoint(endpoint_id: str) -> ResponseReturnValue:
    """The endpoint, with why it is disabled and since when it fails, if so."""
    user = current_user()
    with database.connection() as conn:
        row = endpoints.get_endpoint(conn, user_id=user.id, endpoint_id=endpoint_id)
    return ok(endpoint_json(row))


@bp.patch("/<id:endpoint_id>")
@documented("Change an endpoint's URL, events, description, or enable/disable it", body=UpdateEndpoint,
            response=EndpointOut, tags=TAGS, errors=(401, 403, 404, 415, 422))
def update_endpoint(endpoint_id: str) -> ResponseReturnValue:
    """Disabling ends its pending deliveries; enabling clears the failure streak."""
    user = current_user()
    body = parse_body(UpdateEndpoint)
    config = app_config()
    with database.transaction() as conn:
        row = endpoints.update_endpoint(conn, user_id=user.id, endpoint_id=endpoint_id, url=body.url,
                                        description=body.description, enabled=body.enabled,
                                        event_types=None if body.event_types is None
                                        else list(body.event_types),
                                        production=config.is_production, now=clock.now())
    return ok(endpoint_json(row))


@bp.delete("/<id:endpoint_id>")
@documented("Delete an endpoint with its delivery log", response=DeletedOut, tags=TAGS,
            errors=(401, 403, 404))
def delete_endpoint(endpoint_id: str) -> ResponseReturnValue:
    user = current_user()
    with database.transaction() as conn:
        endpoints.delete_endpoint(conn, user_id=user.id, endpoint_id=endpoint_id)
    return ok({"id": endpoint_id, "deleted": True})


@bp.post("/<id:endpoint_id>/rotate-secret")
@documented("Replace the signing secret (shown once); the old one also signs for 24 hours",
            response=EndpointWithSecretOut, tags=TAGS, errors=(401, 403, 404))
def rotate_secret(endpoint_id: str) -> ResponseReturnValue:
    """Deliveries carry both signatures until the old secret expires, so a receiver can switch at leisure."""
    user = current_user()
    with database.transaction() as conn:
        rotated = endpoints.rotate_secret(conn, user_id=user.id, endpoint_id=endpoint_id,
                                          encryption_key=app_config().encryption_key, now=clock.now())
    return ok(endpoint_json(rotated.endpoint, secret=rotated.secret))


@bp.get("/<id:endpoint_id>/deliveries")
@documented("The endpoint's delivery log, newest first, every attempt with status, latency and answer",
            query=DeliveryQuery, response=DeliveryOut, many=True, paged=True, tags=TAGS,
            errors=(401, 403, 404, 422))
def list_deliveries(endpoint_id: str) -> ResponseReturnValue:
    user = current_user()
    query = parse_query(DeliveryQuery)
    with database.connection() as conn:
        page = endpoints.list_deliveries(conn, user_id=user.id, endpoint_id=endpoint_id, status=query.status,
                                         cursor=query.cursor, limit=query.limit)
    return ok([delivery_json(row, event_type=row.event_type, attempts=page.attempts[row.id])
               for row in page.deliveries], meta={"next_cursor": page.next_cursor})


@bp.post("/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver")
@documented("Send a delivery again now (same webhook-id, so receivers can tell)", response=RedeliveryOut,
            status=202, tags=TAGS, errors=(401, 403, 404, 409))
def redeliver(endpoint_id: str, delivery_id: str) -> ResponseReturnValue:
    """Whatever became of it: it is due at once, and a worker sends it within a moment; if it fails, it is
    retried on the usual schedule within its day."""
    user = current_user()
    with database.transaction() as conn:
        row = endpoints.redeliver(conn, user_id=user.id, endpoint_id=endpoint_id, delivery_id=delivery_id,
                                  now=clock.now())
    return ok({"id": row.id, "event_id": row.event_id, "status": row.status.value, "attempts": row.attempts},
              202)
