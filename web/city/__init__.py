"""The city console (网上巡查): every course's link, today's figures, the warnings and the review book.

The same Flask app as a course's, in city mode: :func:`attach` gives it a :class:`CityConsole`
(the city's database, its settings, where the courses' databases are reached) and the app's
``Records`` are the city's own (``session_factory(city_engine, city_code)``: its accounts and its
audit chain). Without one, these pages answer 404: a course's web process is no city console.
"""

from flask import Blueprint

bp = Blueprint("city", __name__, url_prefix="/city")

from examroom_web.city.console import CityConsole, attach, city_mode  # noqa: E402,F401
from examroom_web.city.words import sample_reason, warning_kind, week_name  # noqa: E402

bp.add_app_template_global(warning_kind)
bp.add_app_template_global(city_mode)
bp.add_app_template_filter(sample_reason)
bp.add_app_template_filter(week_name)
from examroom_web.city import draws, routes  # noqa: E402,F401  (registers the views)
