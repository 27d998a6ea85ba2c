"""Patrol plans and patrol reports as records (issue 15): saved, versioned plans; one report per
task (done, partly, not done with the reason); execution rates by base and week."""
