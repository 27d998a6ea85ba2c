"""Replication as the service sees it: which server takes writes, where reads go, how far behind
the standby is (issue 20, docs/scale-out.md)."""
