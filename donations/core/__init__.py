"""Site-wide pieces: health check, error pages, template helpers."""
