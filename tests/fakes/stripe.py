"""A fake Stripe API on loopback, speaking the v1 wire format of ../shared/spec/stripe.md, and Stripe's
signer.

stripe-python reaches it through STRIPE_API_BASE: form-encoded bodies with bracket nesting, Bearer key
check, Stripe-shaped error bodies, Idempotency-Key replay (same key + same parameters -> the stored answer
with `Idempotent-Replayed: true`; other parameters -> 400 idempotency_error; in flight -> 409). It keeps
customers, Checkout Sessions and Customer Portal sessions in memory. Faults (`fail`, `slow`) simulate an
outage in front of Stripe's API: they act before idempotency, so nothing is stored for them.

`sign(payload, secret)` builds a Stripe-Signature header exactly as Stripe does (t=..., v1=HMAC-SHA256 of
"t.payload" keyed with the whole whsec_ secret); `event(...)` builds an event envelope.

`host_pages(webhook_url)` also makes it play Stripe's hosted pages for a browser: Checkout Sessions and portal
sessions then point at pages of this server (`/c/pay/<id>`, `/p/session/<id>`), where paying completes the
session, sends the browser to its success_url (`{CHECKOUT_SESSION_ID}` filled in, as Stripe does) and
delivers a signed checkout.session.completed to webhook_url from another thread, retrying a non-2xx answer as
Stripe would; "Back" goes to the cancel_url, and the portal page links back to its return_url.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qsl

import requests
from werkzeug.wrappers import Request, Response

from .serving import ThreadedServer, serve_wsgi

API_KEY = "sk_test_fake_genvid_0123456789"
WEBHOOK_SECRET = "whsec_fake_genvid_signing_secret"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{secrets.token_hex(6)}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's bracket-nested form encoding (`a[b][0][c]=v`) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for payload."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None,
          previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A v1 snapshot event envelope around obj."""
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {"id": event_id or new_id("evt"), "object": "event", "api_version": "2026-10-28.endive",
            "created": int(time.time()) if created is None else created, "data": data, "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": event_type}


class StripeError(Exception):
    def __init__(self, status: int, error_type: str, message: str, *, code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": {"type": error_type, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Fault:
    remaining: int
    status: int | None = None          # answer this status ...
    delay: float = 0.0                 # ... or sleep this long first (a timeout on the client's side) ...
    release: threading.Event | None = None   # ... or wait until the test releases it (a hung Stripe)


@dataclass
class FakeStripe:
    """The fake server; `base_url` goes into STRIPE_API_BASE."""

    api_key: str = API_KEY
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    portal_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _idempotency: dict[str, tuple[str, int, bytes] | None] = field(default_factory=dict)
    held_done: int = 0
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadedServer | None = None
    webhook_url: str | None = None          # set by host_pages(): where paid sessions are announced
    deliveries: list[int] = field(default_factory=list)     # webhook answers' statuses, in order

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> str:
        self._server = serve_wsgi(self.wsgi, name="fake-stripe")
        return self.base_url

    def stop(self) -> None:
        with self._lock:
            for fault in self._faults:           # held requests still waiting end with the fake
                if fault.release is not None:
                    fault.release.set()
        if self._server is not None:
            self._server.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return self._server.url

    # --- controls --------------------------------------------------------------------------------------
    def host_pages(self, webhook_url: str) -> None:
        """Serve Checkout and portal pages for a browser, announcing payments to webhook_url (see above)."""
        self.webhook_url = webhook_url

    def fail(self, status: int = 500, *, times: int = 1_000_000) -> None:
        """The next `times` API requests get `status` (before Stripe 'executes' them: nothing is stored)."""
        with self._lock:
            self._faults.append(_Fault(remaining=times, status=status))

    def slow(self, seconds: float, *, times: int = 1_000_000) -> None:
        """The next `times` API requests are answered only after `seconds`."""
        with self._lock:
            self._faults.append(_Fault(remaining=times, delay=seconds))

    def hold(self, *, times: int = 1) -> Callable[[], None]:
        """The next `times` API requests wait, as a hung Stripe would, until the returned function is called;
        then they are handled normally. No timing is involved, so the client's timeout always fires first.
        `held_done` counts the held requests handled since."""
        release = threading.Event()
        with self._lock:
            self._faults.append(_Fault(remaining=times, release=release))
        return release.set

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def complete_session(self, session_id: str, *, paid: bool = True) -> dict[str, Any]:
        """The customer finished Checkout: the session as checkout.session.completed carries it."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", url=None, payment_status="paid" if paid else "unpaid")
            if session["mode"] == "payment":
                session["payment_intent"] = session["payment_intent"] or new_id("pi")
            else:
                session["subscription"] = session["subscription"] or new_id("sub")
                session["invoice"] = session["invoice"] or new_id("in")
            return json.loads(json.dumps(session))

    def settle_session(self, session_id: str) -> dict[str, Any]:
        """A delayed payment cleared: the session as async_payment_succeeded carries it."""
        with self._lock:
            self.sessions[session_id]["payment_status"] = "paid"
            return json.loads(json.dumps(self.sessions[session_id]))

    # --- HTTP ------------------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if self.webhook_url and request.path.startswith(("/c/pay/", "/p/session/")):
            return self._hosted_page(request)
        params = decode_form(request.get_data(as_text=True)) if request.method == "POST" else \
            _listify(decode_form(request.query_string.decode()))
        self.requests.append(Recorded(request.method, request.path, params, dict(request.headers)))
        fault = self._take_fault()
        if fault is not None and fault.release is not None:
            fault.release.wait()
            try:
                return self._handle(request, params)
            finally:
                with self._lock:
                    self.held_done += 1
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                return _json(fault.status, {"error": {"type": "api_error",
                                                      "message": "An unknown error occurred (fake outage)."}})
        return self._handle(request, params)

    def _handle(self, request: Request, params: dict[str, Any]) -> Response:
        try:
            self._authenticate(request)
            key = request.headers.get("Idempotency-Key")
            if request.method != "POST" or not key:
                return _json(200, self._route(request, params))
            return self._idempotent(request, params, key)
        except StripeError as exc:
            return _json(exc.status, exc.body)

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            while self._faults and self._faults[0].remaining <= 0:
                self._faults.pop(0)
            if not self._faults:
                return None
            self._faults[0].remaining -= 1
            return self._faults[0]

    def _authenticate(self, request: Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            raise StripeError(401, "invalid_request_error", "Invalid API Key provided.")

    def _idempotent(self, request: Request, params: dict[str, Any], key: str) -> Response:
        fingerprint = json.dumps([request.path, params], sort_keys=True)
        with self._lock:
            if key in self._idempotency:
                stored = self._idempotency[key]
                if stored is None:
                    raise StripeError(409, "idempotency_error", "There is currently another in-progress "
                                      "request using this Idempotent Key.", code="idempotency_key_in_use")
                if stored[0] != fingerprint:
                    raise StripeError(400, "idempotency_error", "Keys for idempotent requests can only be "
                                      "used with the same parameters they were first used with.")
                response = Response(stored[2], status=stored[1], mimetype="application/json")
                response.headers["Idempotent-Replayed"] = "true"
                return response
            self._idempotency[key] = None
        try:
            status, body = 200, self._route(request, params)
        except StripeError as exc:
            if exc.status == 400:           # validation failures are not stored: the key stays usable
                with self._lock:
                    del self._idempotency[key]
                raise
            status, body = exc.status, exc.body
        raw = json.dumps(body).encode()
        with self._lock:
            self._idempotency[key] = (fingerprint, status, raw)
        return Response(raw, status=status, mimetype="application/json")

    def _route(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        path, method = request.path.rstrip("/"), request.method
        if method == "POST" and path == "/v1/customers":
            return self._create_customer(params)
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        if method == "GET" and path.startswith("/v1/checkout/sessions/"):
            return self._get(self.sessions, path.rsplit("/", 1)[1], "checkout.session")
        if method == "GET" and path.startswith("/v1/customers/"):
            return self._get(self.customers, path.rsplit("/", 1)[1], "customer")
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return self._create_portal(params)
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _get(self, store: dict[str, dict[str, Any]], object_id: str, kind: str) -> dict[str, Any]:
        with self._lock:
            if object_id not in store:
                raise StripeError(404, "invalid_request_error", f"No such {kind}: '{object_id}'",
                                  code="resource_missing", param="id")
            return store[object_id]

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {"id": new_id("cus"), "object": "customer", "email": params.get("email"),
                    "name": params.get("name"), "metadata": params.get("metadata") or {},
                    "created": int(time.time()), "livemode": False}
        with self._lock:
            self.customers[customer["id"]] = customer
        return customer

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("mode")
        if mode not in ("payment", "subscription", "setup"):
            raise StripeError(400, "invalid_request_error", "Missing required param: mode.",
                              code="parameter_missing", param="mode")
        if "success_url" not in params:
            raise StripeError(400, "invalid_request_error", "Missing required param: success_url.",
                              code="parameter_missing", param="success_url")
        if params.get("customer") and params.get("customer_email"):
            raise StripeError(400, "invalid_request_error",
                              "You may only specify one of these parameters: customer, customer_email.")
        customer = params.get("customer")
        if customer and customer not in self.customers:
            raise StripeError(400, "invalid_request_error", f"No such customer: '{customer}'",
                              code="resource_missing", param="customer")
        items = params.get("line_items") or []
        if not items:
            raise StripeError(400, "invalid_request_error", "Missing required param: line_items.",
                              code="parameter_missing", param="line_items")
        total, currency = 0, None
        for index, item in enumerate(items):
            price_data = item.get("price_data")
            if price_data is None:
                if not str(item.get("price", "")).startswith("price_"):
                    raise StripeError(400, "invalid_request_error", "No such price.",
                                      code="resource_missing", param=f"line_items[{index}][price]")
                continue
            recurring = "recurring" in price_data
            if recurring != (mode == "subscription"):
                raise StripeError(400, "invalid_request_error",
                                  "You must use recurring prices in subscription mode and one-time prices "
                                  "in payment mode.", param=f"line_items[{index}]")
            total += int(price_data["unit_amount"]) * int(item.get("quantity", 1))
            currency = price_data["currency"]
        now = int(time.time())
        session_id = new_id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": mode, "status": "open",
            "payment_status": "unpaid",
            "url": self._page_url("https://checkout.stripe.com", f"/c/pay/{session_id}"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "customer": customer, "customer_email": params.get("customer_email"),
            "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "amount_subtotal": total, "amount_total": total, "currency": currency,
            "payment_intent": None, "subscription": None, "invoice": None,
            "created": now, "expires_at": now + 86400, "livemode": False,
        }
        with self._lock:
            self.sessions[session_id] = session
        return session

    def _create_portal(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = params.get("customer")
        if not customer:
            raise StripeError(400, "invalid_request_error", "Missing required param: customer.",
                              code="parameter_missing", param="customer")
        self._get(self.customers, customer, "customer")
        portal_id = new_id("bps")
        portal = {"id": portal_id, "object": "billing_portal.session", "customer": customer,
                  "return_url": params.get("return_url"),
                  "url": self._page_url("https://billing.stripe.com", f"/p/session/{portal_id}"),
                  "created": int(time.time()), "livemode": False}
        with self._lock:
            self.portal_sessions[portal_id] = portal
        return portal


    # --- hosted pages (host_pages) ------------------------------------------------------------------------
    def _page_url(self, stripe_host: str, path: str) -> str:
        return f"{self.base_url}{path}" if self.webhook_url else f"{stripe_host}{path}"

    def _hosted_page(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts[0] == "p" and len(parts) == 3 and parts[2] in self.portal_sessions:
            portal = self.portal_sessions[parts[2]]
            return _html("Customer portal (test)", "<p>Your plan and invoices would be managed here.</p>"
                         f'<p><a href="{escape(portal["return_url"] or "/")}">Return to genvid</a></p>')
        session = self.sessions.get(parts[2]) if len(parts) >= 3 else None
        if session is None:
            return _html("Not found", "<p>No such checkout.</p>", status=404)
        if request.method == "POST" and parts[3:] == ["pay"]:
            paid = self.complete_session(session["id"])
            threading.Thread(target=self._announce, args=(paid,), daemon=True).start()
            target = paid["success_url"].replace("{CHECKOUT_SESSION_ID}", paid["id"])
            return Response(status=303, headers={"Location": target})
        amount = f'{session["amount_total"] / 100:.2f} {str(session["currency"]).upper()}'
        return _html("Checkout (test)",
                     f"<p>Pay <strong>{escape(amount)}</strong> for "
                     f"{escape(session['metadata'].get('product_id', ''))}."
                     f'</p><form method="post" action="/c/pay/{session["id"]}/pay"><button>Pay '
                     f'{escape(amount)}</button>'
                     f'</form><p><a href="{escape(session["cancel_url"] or "/")}">Back</a></p>')

    def _announce(self, session: dict[str, Any]) -> None:
        """Deliver checkout.session.completed as Stripe does: signed, and again after a non-2xx answer."""
        assert self.webhook_url is not None
        body = json.dumps(event("checkout.session.completed", session)).encode()
        for attempt in range(20):
            try:
                answer = requests.post(self.webhook_url, data=body, timeout=30, headers={
                    "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": sign(body)})
                self.deliveries.append(answer.status_code)
                if answer.ok:
                    return
            except requests.RequestException:
                self.deliveries.append(0)
            time.sleep(0.2 * (attempt + 1))


def _html(title: str, body: str, status: int = 200) -> Response:
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><h1>{escape(title)}</h1>{body}</body></html>")
    return Response(page, status=status, mimetype="text/html")


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json",
                    headers={"Request-Id": f"req_{secrets.token_hex(7)}"})
