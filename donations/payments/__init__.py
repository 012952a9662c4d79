"""Payments: the Stripe gateway, webhooks and the offline emulator."""
