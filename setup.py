"""The packages installed; everything else is in setup.cfg.

The top-level folder ``config/`` (rule sets, courses, sites) stays where it is edited and is
installed as the import package ``examroom_config``, so wheels and editable installs carry it as
package data (``scoring.config_files`` finds it with importlib.resources). Likewise the folder
``web/`` (the Flask front) is installed as ``examroom_web``: a top-level package named ``web``
in site-packages would collide with anything else of that name. setup.cfg cannot list a renamed
package beside ``find:``; this file can.
"""

from setuptools import find_packages, setup

CODE = ["examroom", "examroom.*", "devices", "devices.*", "scoring", "scoring.*"]
WEB = ["examroom_web" + name[3:] for name in find_packages(include=["web", "web.*"])]

setup(
    packages=find_packages(include=CODE) + WEB + ["examroom_config"],
    package_dir={"examroom_config": "config", "examroom_web": "web"},
)
