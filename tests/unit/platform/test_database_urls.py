"""Database URLs: several hosts (libpq multi-host) reach SQLAlchemy and psycopg unchanged in
meaning; health reasons name hosts and never the password; lag settings refuse nonsense."""

import pytest
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url

from app.db import hosts_of, libpq_url, sync_url, with_database
from app.services.replication.status import why_no_writer
from app.settings import Settings

MULTI = "postgresql://kinga:p%40ss@10.0.0.1:5433,10.0.0.2:5434/kinga?target_session_attrs=read-write"


def test_a_multi_host_url_becomes_libpq_host_and_port_lists_for_the_engine():
    args = PGDialect_psycopg().create_connect_args(make_url(sync_url(MULTI)))[1]
    assert args["host"] == "10.0.0.1,10.0.0.2" and args["port"] == "5433,5434"
    assert args["target_session_attrs"] == "read-write" and args["password"] == "p@ss"
    assert args["dbname"] == "kinga" and args["user"] == "kinga"


def test_libpq_url_keeps_several_hosts_in_the_authority_and_round_trips():
    assert libpq_url(MULTI) == MULTI
    assert libpq_url(sync_url(MULTI)) == MULTI
    assert hosts_of(MULTI) == ["10.0.0.1:5433", "10.0.0.2:5434"]
    assert with_database(MULTI, "postgres").startswith("postgresql://kinga:p%40ss@10.0.0.1:5433,10.0.0.2:5434/postgres?")


def test_a_single_host_url_is_unchanged_but_for_the_driver():
    one = "postgresql://kinga:secret@127.0.0.1:54329/kinga_x?sslmode=disable"
    assert sync_url(one) == "postgresql+psycopg://kinga:secret@127.0.0.1:54329/kinga_x?sslmode=disable"
    assert libpq_url(sync_url(one)) == one


def test_why_no_writer_names_each_host_and_never_the_password():
    class Err(Exception):
        pass
    exc = Err('connection failed: connection to server at "10.0.0.1", port 5433 failed: Connection refused\n'
              'Is the server running?\nconnection to server at "10.0.0.2", port 5434 failed: '
              "session is read-only")
    reason = why_no_writer(exc, hosts_of(MULTI))
    assert "10.0.0.1:5433: Connection refused" in reason
    assert "10.0.0.2:5434: read-only" in reason and "p@ss" not in reason and "p%40ss" not in reason


@pytest.mark.parametrize("field,value", [("max_replica_lag_s", -1), ("replica_lag_check_s", -0.5),
                                         ("write_synchronous_commit", "off")])
def test_replication_settings_refuse_nonsense(field, value):
    with pytest.raises(ValidationError):
        Settings(**{field: value})
