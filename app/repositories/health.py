from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


async def check(session: AsyncSession) -> dict[str, Any]:
    """PostGIS, the incident count, and the writer's replication state, in one round trip (the
    health check is the alert bench's ceiling). Synchronous standbys are counted from
    pg_stat_replication, which shows sync_state only to superusers and members of pg_monitor."""
    row = (await session.execute(text(
        "SELECT postgis_lib_version() AS postgis, (SELECT count(*) FROM incident) AS incidents, "
        "inet_server_port() AS port, current_setting('synchronous_standby_names') AS sync, "
        "current_setting('synchronous_commit') AS commit, "
        "(SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum'))::int "
        "AS sync_standbys"
    ))).mappings().one()
    return {"postgis": row["postgis"], "incidents": int(row["incidents"]),
            "writer": {"port": row["port"], "synchronous_standby_names": row["sync"],
                       "synchronous_commit": row["commit"],
                       "synchronous_standbys": row["sync_standbys"]}}


async def replica_lag(conn: AsyncConnection) -> dict[str, Any]:
    """The read server's role and how far its replay is behind. On a standby the lag is 0 while
    it has replayed all it received from a streaming primary, else the age of the last replayed
    transaction (the usual measure: it does not grow while the primary is idle and connected).
    A primary (prefer-standby fell back to it) has no lag."""
    row = (await conn.execute(text("""
SELECT pg_is_in_recovery() AS standby,
       inet_server_port() AS port,
       CASE WHEN NOT pg_is_in_recovery() THEN 0.0
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                 AND EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0.0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
       END AS lag_s"""))).mappings().one()
    return {"role": "standby" if row["standby"] else "primary", "port": row["port"],
            "lag_s": None if row["lag_s"] is None else round(float(row["lag_s"]), 3)}


async def ping(session: AsyncSession) -> None:
    """One `SELECT 1` round trip: in autocommit, so no BEGIN or ROLLBACK is sent around it."""
    conn = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    await conn.execute(text("SELECT 1"))
