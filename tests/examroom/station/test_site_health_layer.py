"""The site's fix limits become the judge's (a rule-set layer stored with every attempt)."""

import dataclasses
from pathlib import Path

from examroom.station.service import site_health_layer
from examroom.site.settings import SiteSettings
from scoring.rules import default_ruleset_path, load_ruleset

BASE = load_ruleset(default_ruleset_path())


def settings(**health) -> SiteSettings:
    return dataclasses.replace(SiteSettings(database_url="sqlite://", course_file=Path("c.toml"),
                                            rule_set_file=default_ruleset_path()), **health)


def test_default_site_limits_leave_the_rule_set_as_it_is():
    assert site_health_layer(BASE, settings()) is BASE


def test_a_sites_own_limits_are_a_site_layer():
    ruleset = site_health_layer(BASE, settings(fault_after=2.5, max_correction_age=5.0))
    assert ruleset.measure("fix_loss_allowance") == 2.5 and ruleset.measure("max_correction_age") == 5.0
    assert ruleset.layers[-1].name == "site:health" and ruleset.id.endswith("+site:health")
    assert "site settings" in ruleset.measurement["fix_loss_allowance"].source


def test_a_faster_clock_lengthens_the_allowance_as_the_health_watch_does():
    """The watch also wants 1.5 s of wall time: the demo at 4× allows 6 clock seconds."""
    ruleset = site_health_layer(BASE, settings(), clock_factor=4.0)
    assert ruleset.measure("fix_loss_allowance") == 6.0
