"""Background work of a server process, started and stopped by the app's one lifespan
(app/main.py): alert triage, webhook dispatch and the scheduler of periodic jobs."""
