"""The Starlette app: console pages, the pay page and /healthz."""
