"""Organizer surfaces and the composition root (``guichet`` command, runtime)."""
