"""While the database is unreachable every endpoint answers 503 problem+json with Retry-After,
never a 500, and the ASGI app does not crash the connection (httpx's ASGI transport re-raises
anything the app lets escape, so these requests would error out instead of returning)."""

import httpx
import pytest

from app.main import create_app
from app.settings import Settings


@pytest.fixture
async def down_client(settings: Settings):
    dead = Settings(**{**settings.model_dump(),
                       "database_url": "postgresql://kinga:nothing@127.0.0.1:1/kinga"})
    app = create_app(dead)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://kinga.test") as client:
        yield client


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/incidents"),
    ("GET", "/api/v1/hotspots?res=6"),
    ("POST", "/api/v1/alerts"),
])
async def test_every_endpoint_answers_503_while_the_database_is_down(down_client, method, path):
    r = await down_client.request(method, path, headers={"Authorization": "Bearer not-checked"},
                                  json={"latitude": 4.39, "longitude": 18.56, "text": "x"})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "2"
    assert r.json()["type"].endswith("unavailable")
