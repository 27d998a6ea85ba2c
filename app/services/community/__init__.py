"""Answering the community: acknowledgements to the people who raised alerts (issue 15)."""
