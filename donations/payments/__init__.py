"""Payments: the Stripe gateway, webhooks and their ledger, and reconciliation with Stripe."""
