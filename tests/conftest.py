"""Hypothesis profiles: `bounded` for every run, `fuzz` for a long one (nightly):

python3 -m pytest tests/test_fuzz.py --hypothesis-profile=fuzz
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "bounded", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("bounded")
