"""The package version, in one place: pyproject.toml reads it, and every run's config.json records it."""

__version__ = "0.4.0"
