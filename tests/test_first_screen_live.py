"""The web client's first screen on a server configured as setup/run starts it: the
demo admin's is the Integrations Overview; its live updates (the websocket) connect on
the one HTTP port, so no "Real-time connection lost" banner; a multi-worker server
without a proxy refuses them on that port."""

import pathlib

import pytest
import requests
import websocket
from conftest import query

REPO = pathlib.Path(__file__).resolve().parent.parent


def _authenticate(server):
    """The admin's session: its cookie and the session info the web client starts from."""
    session = requests.Session()
    response = session.post(
        f"{server.url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": server.db, "login": "admin", "password": "admin"}},
        timeout=30,
    )
    assert response.json()["result"]["uid"], response.text
    return session.cookies["session_id"], response.json()["result"]


def _log_in(server):
    return _authenticate(server)[0]


def _open_websocket(server, session_id):
    # As the web client's worker opens it: same origin, the session's cookie.
    return websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/websocket?version=18.0-5",
        cookie=f"session_id={session_id}",
        origin=server.url,
        timeout=30,
    )


def test_setup_run_starts_odoo_threaded_by_default():
    # setup/run's WORKERS default: the case the next test opens the first screen on.
    assert 'write_config "$CONF" "$DB" "$PORT" "${WORKERS:-0}"' in (REPO / "setup/run").read_text()


def test_demo_admin_first_screen_is_the_integrations_overview(start_server, db):
    server = start_server(workers=0, job_runner=False)
    _session_id, info = _authenticate(server)
    # The web client opens the user's home action (session info's home_action_id) at /odoo.
    overview = query(
        db,
        """SELECT res_id FROM ir_model_data
            WHERE module = 'integration_hub' AND name = 'integration_backend_action_overview'""",
    )
    assert overview and info["home_action_id"] == overview[0][0], info.get("home_action_id")


def test_threaded_server_serves_the_web_clients_websocket_on_its_http_port(start_server):
    server = start_server(workers=0, job_runner=False)
    connection = _open_websocket(server, _log_in(server))
    try:
        assert connection.connected
        assert connection.getstatus() == 101
    finally:
        connection.close()


def test_multi_worker_server_refuses_the_websocket_on_its_http_port(start_server):
    # Why setup/run is threaded: with workers, only gevent_port (behind a proxy) serves it.
    server = start_server(workers=2, job_runner=False)
    session_id = _log_in(server)
    with pytest.raises(websocket.WebSocketBadStatusException):
        _open_websocket(server, session_id)
