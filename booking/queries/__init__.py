"""Read-only views for staff (the console's lists, searches, dashboard and reports).

They only read: an import-linter contract keeps them away from ``booking.services`` (the
commands that change state), and ``tests/unit/test_queries_only_read.py`` finds no write in
them. Commands live in ``booking.services``; what both need (dataclasses, date rules) lives in
``booking.views`` and ``booking.rules``.
"""
