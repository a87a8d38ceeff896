"""Email flows: verification, password reset, email change and deletion, mailed through a real SMTP server."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from factories import DEFAULT_PASSWORD, bearer, create_session, create_user


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_verification_mail_over_smtp_is_single_use(make_app, conn, mailbox):
    """send-verification-email mails a link that verifies once; a second use fails."""
    client = make_app(smtp_url=mailbox.url, mail_from="genvid <from@example.com>").test_client()
    user = create_user(conn, email="v@example.com")
    assert client.post("/api/auth/send-verification-email", json={"email": "v@example.com"}).get_json() == {
        "status": True}
    link = mailbox.wait_link()
    assert mailbox.messages[0]["To"] == "v@example.com" and "from@example.com" in mailbox.messages[0]["From"]
    token = parse_qs(urlsplit(link).query)["token"][0]
    response = client.get("/api/auth/verify-email", query_string={"token": token})
    assert response.get_json() == {"status": True, "user": None}
    assert conn.execute('SELECT "emailVerified" FROM "user" WHERE id = %s', (user.id,)).fetchone()[0] is True
    again = client.get("/api/auth/verify-email", query_string={"token": token})
    assert (again.status_code, again.get_json()["code"]) == (401, "INVALID_TOKEN")


def test_password_reset_flow_and_expiry(make_app, conn, mailbox, frozen_clock):
    """request-password-reset mails a link; the callback redirects with the token; reset works once,
    within an hour."""
    app = make_app(smtp_url=mailbox.url)
    clock = frozen_clock
    client = app.test_client()
    create_user(conn, email="r@example.com")
    unknown = client.post("/api/auth/request-password-reset", json={"email": "none@example.com"})
    known = client.post("/api/auth/request-password-reset",
                        json={"email": "r@example.com", "redirectTo": "/reset"})
    assert known.get_json() == unknown.get_json()
    callback = client.get(path_of(mailbox.wait_link()))
    assert callback.status_code == 302
    assert callback.headers["Location"].startswith("http://localhost:8080/reset?token=")
    token = callback.headers["Location"].split("token=")[1]
    ok = client.post("/api/auth/reset-password", json={"newPassword": "a new password", "token": token})
    assert ok.get_json() == {"status": True}
    reused = client.post("/api/auth/reset-password", json={"newPassword": "another password", "token": token})
    assert (reused.status_code, reused.get_json()["code"]) == (400, "INVALID_TOKEN")
    assert client.post("/api/auth/sign-in/email", json={"email": "r@example.com",
                                                        "password": "a new password"}).status_code == 200
    app.test_client().post("/api/auth/request-password-reset", json={"email": "r@example.com"})
    token2 = mailbox.wait_link(2).split("/reset-password/")[1].split("?")[0]
    clock.advance(3601)
    expired = app.test_client().post("/api/auth/reset-password", json={"newPassword": "too late pw",
                                                                        "token": token2})
    assert expired.get_json()["code"] == "INVALID_TOKEN"


def test_change_email_and_delete_user(make_app, conn, mailbox):
    """change-email moves the account once the new address confirms; delete-user needs the password."""
    client = make_app(smtp_url=mailbox.url).test_client()
    user = create_user(conn, email="old@example.com")
    auth = bearer(create_session(conn, user_id=user.id))
    assert client.post("/api/auth/change-email", headers=auth,
                       json={"newEmail": "New@example.com"}).get_json() == {
        "status": True}
    link = mailbox.wait_link()
    assert mailbox.messages[0]["To"] == "new@example.com"
    assert conn.execute('SELECT email FROM "user" WHERE id = %s',
                        (user.id,)).fetchone()[0] == "old@example.com"
    client.get(path_of(link))
    assert conn.execute('SELECT email FROM "user" WHERE id = %s',
                        (user.id,)).fetchone()[0] == "new@example.com"
    wrong = client.post("/api/auth/delete-user", headers=auth, json={"password": "wrong password"})
    assert wrong.get_json()["code"] == "INVALID_PASSWORD"
    gone = client.post("/api/auth/delete-user", headers=auth, json={"password": DEFAULT_PASSWORD})
    assert gone.get_json() == {"success": True, "message": "User deleted"}
    assert conn.execute('SELECT count(*) FROM "user"').fetchone()[0] == 0


PRODUCTION_WITHOUT_SMTP = {"environment": "production", "smtp_url": None}
MAIL_FLOWS = (("/api/auth/send-verification-email", {"email": "m@example.com"}),
              ("/api/auth/request-password-reset", {"email": "m@example.com"}))


def test_production_without_smtp_refuses_the_mail_flows_and_logs_no_token(make_app, conn, capsys):
    """No SMTP_URL in production: the flows that mail a link answer 503 MAIL_NOT_CONFIGURED in better-auth's
    shape before any token exists, and no link reaches the log (it used to be logged at WARNING)."""
    user = create_user(conn, email="m@example.com")
    client = make_app(**PRODUCTION_WITHOUT_SMTP, log_level="INFO").test_client()
    capsys.readouterr()
    for path, body in MAIL_FLOWS:
        response = client.post(path, json=body, headers={"Origin": "http://localhost:5173"})
        assert response.status_code == 503, (path, response.data)
        assert response.get_json() == {
            "message": "Email delivery is not configured on this server (SMTP_URL).",
                                       "code": "MAIL_NOT_CONFIGURED"}
    change = client.post("/api/auth/change-email", json={"newEmail": "new@example.com"},
                         headers={"Origin": "http://localhost:5173",
                                  **bearer(create_session(conn, user_id=user.id))})
    assert change.status_code == 503 and change.get_json()["code"] == "MAIL_NOT_CONFIGURED"
    assert conn.execute("SELECT count(*) FROM verification").fetchone()[0] == 0
    logged = capsys.readouterr().out
    assert "reset-password" not in logged and "verify-email" not in logged and "token" not in logged


def test_production_without_smtp_says_so_at_start(make_app, capsys):
    capsys.readouterr()
    make_app(**PRODUCTION_WITHOUT_SMTP, log_level="INFO")
    assert "SMTP_URL is not set" in capsys.readouterr().out


def test_mail_never_logs_a_message_body_in_production() -> None:
    """The last line of defence: mail.send itself refuses to log a body (a link) in production."""
    from genvid.auth import mail
    with pytest.raises(mail.MailNotConfigured):
        mail.send(smtp_url=None, sender="a@example.com", to="b@example.com", subject="s",
                  text="http://x/reset-password/SECRET", environment="production")


def test_development_without_smtp_logs_the_link(make_app, conn, capsys):
    """Outside production the link is logged (INFO), so `make run` works without a mail server."""
    create_user(conn, email="m@example.com")
    client = make_app(log_level="INFO").test_client()
    capsys.readouterr()
    response = client.post("/api/auth/request-password-reset", json={"email": "m@example.com"},
                           headers={"Origin": "http://localhost:5173"})
    assert response.status_code == 200
    assert "/api/auth/reset-password/" in capsys.readouterr().out
