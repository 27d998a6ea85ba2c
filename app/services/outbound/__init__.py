"""Outbound HTTP to addresses given by users (webhook subscribers, integrations' acknowledgement
endpoints): every address a host name resolves to must be public, and the connection goes to
the address that was checked (no second resolution a DNS rebinding could answer differently).

- `addresses`: the address policy (private, loopback, link-local, reserved, and public-looking
  IPv6 forms that embed such an IPv4: IPv4-mapped, 6to4, NAT64, Teredo) and `check_url`.
- `client`: an httpx client whose connections resolve once, check, and connect by IP while the
  URL's host name stays the Host header, the TLS SNI and the certificate's name. It never follows
  redirects and ignores proxy environment variables (a proxy would resolve the name itself).
"""

from app.services.outbound.addresses import (
    TargetRefused,
    address_allowed,
    check_url,
    refusal,
    resolve_checked,
)
from app.services.outbound.client import pinned_client

__all__ = ["TargetRefused", "address_allowed", "check_url", "pinned_client", "refusal",
           "resolve_checked"]
