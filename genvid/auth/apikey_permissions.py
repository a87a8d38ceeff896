"""What an API key may do on genvid's /api/: the permission each endpoint needs, and the plugin's check.

A key's "permissions" map resources to actions, as better-auth's access control reads them. genvid's:

| permission | endpoints |
| --- | --- |
| `videos:read` | GET /api/videos, /api/videos/{id}, /api/videos/{id}/events, /api/avatars, /api/voices |
| `videos:create` | POST /api/videos |
| `videos:delete` | DELETE /api/videos/{id} |
| `batches:read` | GET /api/batches, /api/batches/{id}, .../results, .../results.csv, .../events |
| `batches:create` | POST /api/batches, POST /api/batch-previews |
| `batches:cancel` | POST /api/batches/{id}/cancel |
| `credits:read` | GET /api/credits, /api/credits/ledger |
| `webhooks:read` | GET /api/webhooks/endpoints[/{id}[/deliveries]] |
| `webhooks:write` | POST/PATCH/DELETE /api/webhooks/endpoints..., rotate-secret, redeliver |

Every other endpoint refuses API keys (403 API_KEY_NOT_ALLOWED): billing (Checkout, the portal) is for a
person in a browser, and /api/auth never reads the x-api-key header at all, so a key opens no account change.
Keys made over HTTP get every permission above (DEFAULT_PERMISSIONS); `genvid apikeys create` narrows them.
A new endpoint is closed to keys until it is listed here.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "videos": ("read", "create", "delete"),
    "batches": ("read", "create", "cancel"),
    "credits": ("read",),
    "webhooks": ("read", "write"),
}
DEFAULT_PERMISSIONS: dict[str, tuple[str, ...]] = dict(PERMISSIONS)

# Flask endpoint name -> (resource, action).
ENDPOINTS: dict[str, tuple[str, str]] = {
    "videos.list_avatars": ("videos", "read"),
    "videos.list_voices": ("videos", "read"),
    "videos.list_videos": ("videos", "read"),
    "videos.show_video": ("videos", "read"),
    "videos.video_events": ("videos", "read"),
    "videos.create_video": ("videos", "create"),
    "videos.delete_video": ("videos", "delete"),
    "batches.list_batches": ("batches", "read"),
    "batches.show_batch": ("batches", "read"),
    "batches.batch_results": ("batches", "read"),
    "batches.batch_results_csv": ("batches", "read"),
    "batches.batch_events": ("batches", "read"),
    "batches.create_batch": ("batches", "create"),
    "batches.preview_batch": ("batches", "create"),
    "batches.cancel_batch": ("batches", "cancel"),
    "billing.credit_summary": ("credits", "read"),
    "billing.credit_ledger": ("credits", "read"),
    "outbound.list_endpoints": ("webhooks", "read"),
    "outbound.show_endpoint": ("webhooks", "read"),
    "outbound.list_deliveries": ("webhooks", "read"),
    "outbound.create_endpoint": ("webhooks", "write"),
    "outbound.update_endpoint": ("webhooks", "write"),
    "outbound.delete_endpoint": ("webhooks", "write"),
    "outbound.rotate_secret": ("webhooks", "write"),
    "outbound.redeliver": ("webhooks", "write"),
}


def required_for(endpoint: str | None) -> dict[str, list[str]] | None:
    """The permissions request a key needs for a Flask endpoint; None when keys may not call it."""
    needed = ENDPOINTS.get(endpoint or "")
    return None if needed is None else {needed[0]: [needed[1]]}


def parse_permission_list(text: str) -> dict[str, list[str]]:
    """`videos:read,credits:read` as a permissions map (ValueError naming anything genvid does not know)."""
    result: dict[str, list[str]] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        resource, _, action = item.partition(":")
        if action not in PERMISSIONS.get(resource, ()):
            raise ValueError(f"unknown permission {item!r}; known: "
                             + ", ".join(f"{r}:{a}" for r, actions in PERMISSIONS.items() for a in actions))
        result.setdefault(resource, [])
        if action not in result[resource]:
            result[resource].append(action)
    return result


def authorize(statements: Any, request: Mapping[str, Sequence[str]]) -> bool:
    """better-auth's `role(statements).authorize(request)` (connector AND): every requested resource must be
    granted with every requested action; an empty request is refused."""
    granted_any = False
    for resource, actions in request.items():
        allowed = statements.get(resource) if isinstance(statements, dict) else None
        if allowed is None or (not allowed and not isinstance(allowed, list)):
            return False
        # JavaScript's includes(): membership for an array, substring for a string.
        if not isinstance(allowed, (list, str)) or not actions or not all(
                isinstance(action, str) and action in allowed for action in actions):
            return False
        granted_any = True
    return granted_any
