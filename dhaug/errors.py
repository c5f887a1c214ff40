"""Exceptions raised for bad user input. Their messages name the file, key, shape or value at fault."""


class DataError(ValueError):
    """A data file or array is missing, malformed or inconsistent."""


class ConfigError(ValueError):
    """A configuration value is invalid."""
