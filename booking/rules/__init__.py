"""Pure rules: standard library only (plus Babel for formatting). No I/O, no SQL."""
