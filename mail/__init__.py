"""Email adapter: inbound replies and outbound notifications (see ARCHITECTURE.md)."""
