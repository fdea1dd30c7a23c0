"""Guichet's booking core: tables, rules and services. Imports no adapter."""
