import time
from factories import create_session, create_user, bearer

def test_perf(client, conn):
    user = create_user(conn)
    token = create_session(conn, user_id=user.id)
    h = bearer(token)
    client.get("/api/auth/get-session", headers=h)
    t = time.perf_counter(); n = 300
    for _ in range(n):
        assert client.get("/api/auth/get-session", headers=h).status_code == 200
    get = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n):
        client.get("/api/auth/ok")
    ok = (time.perf_counter() - t) / n
    print(f"\nget-session {get*1000:.2f} ms/req, ok {ok*1000:.2f} ms/req")
