"""The production server: waitress, with bodies kept in memory, and the session cookie."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path

from portal import create_app
from tests.portal.conftest import TEST_CONFIG
from tests.support.browser import ServerThread
from tests.support.components import free_port
from webcrypt.runtime import Runtime


def test_create_server_serves_the_portal_from_memory(runtime) -> None:
    import portal

    session_key = Path(runtime.config.portal.secret_key_file)
    session_key.write_text("server-test-key")
    session_key.chmod(0o600)
    port = free_port()
    server = portal.create_server(runtime, listen=f"127.0.0.1:{port}", threads=2)
    # Bodies up to the request limit stay in memory (no temporary files for plaintext).
    assert server.adj.inbuf_overflow > 27 * 1024 * 1024
    assert server.adj.outbuf_overflow > 27 * 1024 * 1024
    serving = ServerThread(server).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert response.status == 200
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Server"] == "WebCrypt"
    finally:
        serving.stop()
    assert not serving.thread.is_alive()


def test_uploads_are_held_in_memory(runtime: Runtime) -> None:
    app = create_app(runtime, dict(TEST_CONFIG))  # its own: the test adds a route
    seen = []

    @app.post("/probe-upload")
    def probe():  # type: ignore[no-untyped-def]
        from flask import request

        seen.append(type(request.files["file"].stream))
        return "ok"

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    data = {"file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "big.bin")}
    client.post("/probe-upload", data=data, content_type="multipart/form-data")
    assert seen == [io.BytesIO]


def test_session_cookie_lives_as_long_as_the_session(client, account, runtime) -> None:
    from tests.portal.conftest import login, update_settings

    update_settings(runtime, session_max_hours=2)
    cookie = login(client).headers["Set-Cookie"]
    assert "Expires=" in cookie
