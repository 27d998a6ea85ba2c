"""A multi-host URL with no server that accepts writes: the service starts, answers 503 with
Retry-After on writes, and /api/v1/health says why, host by host. Nothing is written."""

from __future__ import annotations

import httpx
import orjson
from pydantic import SecretStr

from app import ha_cluster
from app.main import create_app
from tests.conftest import incident_body
from tests.ha.conftest import _free_ports, node_conn, roles


async def test_no_reachable_writer_starts_answers_503_and_says_why(cluster, ha_settings, ha_tokens):
    primary, standby = roles(cluster)
    dead = _free_ports(1)[0]
    url = ha_cluster.writer_url(cluster).replace(
        f"127.0.0.1:{cluster.node_ports[0]},127.0.0.1:{cluster.node_ports[1]}",
        f"127.0.0.1:{dead},127.0.0.1:{cluster.port(standby)}")
    settings = ha_settings.model_copy(update={"database_url": SecretStr(url)})
    with node_conn(cluster, primary) as p:
        before = p.execute("SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM alert)").fetchone()
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kinga.test") as c:
        analyst = {"Authorization": f"Bearer {ha_tokens['analyst']}"}
        r = await c.post("/api/v1/incidents", json=incident_body(), headers=analyst)
        assert r.status_code == 503 and r.headers["retry-after"], r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        body = orjson.dumps({"latitude": 4.4, "longitude": 18.5, "text": "x"})
        a = await c.post("/api/v1/alerts", content=body,
                         headers={"Authorization": f"Bearer {ha_tokens['integration']}",
                                  "Content-Type": "application/json"})
        assert a.status_code == 503, a.text
        h = await c.get("/api/v1/health")
        assert h.status_code == 503 and h.headers["retry-after"]
        doc = h.json()
        assert doc["database"] == "unavailable"
        assert f"127.0.0.1:{cluster.port(standby)}: read-only" in doc["detail"], doc["detail"]
        assert f"127.0.0.1:{dead}:" in doc["detail"]
        assert doc["writer"]["hosts"] == [f"127.0.0.1:{dead}", f"127.0.0.1:{cluster.port(standby)}"]
        assert ha_cluster.password(cluster) not in h.text
    with node_conn(cluster, primary) as p:
        after = p.execute("SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM alert)").fetchone()
    assert after == before
