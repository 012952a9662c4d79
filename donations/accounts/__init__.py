"""Accounts: sign-up, login, logout, the account page, password reset and the staff role."""
