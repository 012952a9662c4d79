"""Membership domain services: who is a member, progress toward the goal."""
