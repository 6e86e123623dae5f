"""The shipped configuration: rule sets (``rules/``), course files (``courses/``) and site
settings (``sites/``), as TOML.

Installed as the import package ``examroom_config`` (setup.cfg ``package_dir``) so that a wheel
carries it; code finds it through :func:`scoring.config_files.config_dir`, never by its own path.
"""
