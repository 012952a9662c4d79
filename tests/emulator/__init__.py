"""Tests of the offline Stripe emulator, driven through the real stripe SDK."""
