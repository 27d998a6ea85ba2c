"""`kinga db up --ha`, `kinga db down --ha`, `kinga db status`, `kinga db url --ha [--read]`: the
project's own replicated cluster (app.ha_cluster) and what the configured URLs reach."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from app.settings import Settings


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    """The commands live under `kinga db` (app/cli/main.py); nothing at the top level."""


def up(settings: Settings) -> None:
    from app import ha_cluster

    try:
        lay = ha_cluster.up(settings)
    except ha_cluster.LocalDbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    roles = ha_cluster.roles(lay)
    typer.echo(f"monitor 127.0.0.1:{lay.monitor_port}; "
               + ", ".join(f"{n} 127.0.0.1:{lay.port(n)} {roles.get(n, '?')}" for n in ha_cluster.NODES))
    typer.echo("KINGA_DATABASE_URL=" + ha_cluster.writer_url(lay))
    typer.echo("KINGA_DATABASE_READ_URL=" + ha_cluster.read_url(lay))


def down(settings: Settings) -> None:
    from app import ha_cluster

    ha_cluster.down(settings)


def url(settings: Settings, *, read: bool) -> str:
    from app import ha_cluster

    lay = ha_cluster.layout(settings)
    return ha_cluster.read_url(lay) if read else ha_cluster.writer_url(lay)


def status(settings: Settings) -> None:
    from app import ha_cluster

    lay = ha_cluster.layout(settings)
    if ha_cluster.service_pid(lay, "monitor") is not None:
        rows = ha_cluster.state(lay)
        typer.echo(f"{'node':8} {'host:port':18} {'reported':14} {'assigned':14} {'tli:lsn':16} health")
        for r in rows:
            typer.echo(f"{r['nodename']:8} {r['nodehost'] + ':' + str(r['nodeport']):18} "
                       f"{r['current_group_state']:14} {r['assigned_group_state']:14} "
                       f"{str(r['reported_tli']) + ':' + r['reported_lsn']:16} "
                       f"{'ok' if r['health'] == 1 else r['health']}")
    else:
        typer.echo("the project's replicated cluster is not running (kinga db up --ha)")
    for line in asyncio.run(_service_view(settings)):
        typer.echo(line)


async def _service_view(settings: Settings) -> list[str]:
    """What KINGA_DATABASE_URL and KINGA_DATABASE_READ_URL reach now."""
    from app.db import hosts_of, make_async_engine, make_read_route, make_sessionmaker
    from app.localdb import resolve_url
    from app.services.replication.status import database_status

    engine = make_async_engine(settings)
    route = make_read_route(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            st = await database_status(session, route, hosts_of(resolve_url(settings)))
    finally:
        await engine.dispose()
        if route is not None:
            await route.engine.dispose()
    body: dict[str, Any] = st.body
    lines = []
    if st.writer_ok:
        w = body["writer"]
        lines.append(f"writer: port {w['port']} of {', '.join(w['hosts'])}; synchronous standbys "
                     f"{w['synchronous_standbys']} ({w['synchronous_standby_names'] or 'none'}), "
                     f"synchronous_commit {w['synchronous_commit']}")
    else:
        lines.append(f"writer: UNAVAILABLE: {st.reason}")
    r = body["reads"]
    lag = f", lag {r['lag_s']} s" if r.get("lag_s") is not None else ""
    lines.append(f"reads: {r['source']}{lag}" + (f" ({r['reason']})" if r.get("reason") else ""))
    return lines
