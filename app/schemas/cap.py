"""OASIS CAP 1.2 and Atom: the namespaces and media types of the wire formats Kinga reads and
writes (alerts in: app/services/alerts/cap.py; warnings out: app/services/warnings/cap_feed.py)."""

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA = "application/cap+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA = "application/atom+xml"
