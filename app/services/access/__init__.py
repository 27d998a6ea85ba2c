"""Need to know and need to share, as rules other capabilities call (one place for the policy):

- `disclosure.check_filters`: a role may filter only on fields it may read (a filter on a hidden
  field would answer the question the hidden field withholds).
- `disclosure.PartnerPolicy` / `partner_incident`: what a partner gets of one incident: its
  location snapped to the centroid of its cell at the partner resolution and per-incident counts
  below the suppression threshold withheld.
- `disclosure.cells_with_centroid_in`: a bbox as partners may use it (by cell, not exact point).
"""
