"""Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.

The signature is HMAC-SHA256, keyed with the base64-decoded part of the `whsec_` secret, over
`{webhook-id}.{webhook-timestamp}.{body}`. Several signatures are separated by spaces: during a secret
rotation genvid signs with the new and the old secret, and a receiver accepts either.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"
SECRET_BYTES = 32
# + the endpoint id: what its secret is sealed for at rest (genvid.sealing)
SECRET_PURPOSE = "outbound-webhook:"


def new_secret() -> str:
    """A fresh `whsec_` secret (32 random bytes, base64)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of one message under one secret."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: Sequence[str], *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every given secret."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id=msg_id, timestamp=timestamp, body=body)
                                      for s in secrets_),
    }
