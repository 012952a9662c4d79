"""The supporter flow: choose amount and interval, start Checkout, thanks and cancel pages."""
