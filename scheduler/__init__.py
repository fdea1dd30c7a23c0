"""APScheduler 3 wiring only: the table of jobs and the runner."""
