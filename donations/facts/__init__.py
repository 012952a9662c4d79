"""Stripe's objects read into typed facts: plain data in, plain data out, no SDK and no database."""
