"""Background jobs of the sales app."""
