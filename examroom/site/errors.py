"""The one error a site file raises: its message names the file, the field and what is allowed."""

from scoring.fields import ConfigError


class SettingsError(ConfigError):
    """A site file that cannot be used (scoring.fields.ConfigError: ``file``, ``field``, ``allowed``)."""
