"""Alembic migrations; applied by ``guichet db upgrade`` (see booking.schema)."""
