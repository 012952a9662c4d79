"""Staff area: the dashboard and tools, all behind the staff role."""
