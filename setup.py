"""The packages installed; everything else is in setup.cfg.

The top-level folder ``config/`` (rule sets, courses, sites) stays where it is edited and is
installed as the import package ``examroom_config``, so wheels and editable installs carry it as
package data (``scoring.config_files`` finds it with importlib.resources). setup.cfg cannot list
a renamed package beside ``find:``; this file can.
"""

from setuptools import find_packages, setup

CODE = ["examroom", "examroom.*", "devices", "devices.*", "scoring", "scoring.*", "web", "web.*"]

setup(
    packages=find_packages(include=CODE) + ["examroom_config"],
    package_dir={"examroom_config": "config"},
)
