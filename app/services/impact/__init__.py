"""Impact of responses and patrols: before/after beside matched comparison cells (an association,
not a proof of effect)."""
