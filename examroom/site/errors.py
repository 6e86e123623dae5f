"""The one error a site file raises: its message names the file, the field and what is allowed."""


class SettingsError(ValueError):
    pass
