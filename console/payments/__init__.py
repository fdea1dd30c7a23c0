"""Payment providers for the pay page: Stripe Checkout, and a clearly labelled test provider."""
