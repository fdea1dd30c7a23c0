"""One module per capability. Module-level async functions: ``ctx`` first, keyword-only."""
