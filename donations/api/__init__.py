"""Public progress API and the embeddable widget."""
