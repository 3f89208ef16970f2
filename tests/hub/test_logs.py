import logging

import websockets.sync.client

from sandbox.models import Role
from tests.conftest import auth


def test_websocket_credentials_never_reach_the_server_logs(app, live_url, make_user,
                                                           caplog) -> None:
    token = auth(make_user(Role.engineer))["Authorization"].removeprefix("Bearer ")
    url = live_url.replace("http", "ws")
    with caplog.at_level(logging.INFO, logger="uvicorn.error"), \
            caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1",
                                                f"/ws/feed?token={token}&x=1")
        logging.getLogger("uvicorn.access").info("GET /ws/trials/3/events?key=slk_secret1 200")
        with websockets.sync.client.connect(f"{url}/ws/feed?token={token}"):
            pass
    text = caplog.text
    assert token not in text and "slk_secret1" not in text
    assert "/ws/feed?token=[redacted]&x=1" in text
    assert "events?key=[redacted] 200" in text
