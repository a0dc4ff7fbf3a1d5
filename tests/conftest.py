"""Shared test set-up: a private compile cache for the session and hypothesis profiles.

The cache directory is set at import, before any test imports jaxlite's backend, so no test ever
writes into ~/.cache/jaxlite or the source tree. `HYPOTHESIS_PROFILE=fuzz` (see `make fuzz`) runs
every property test with many more examples.
"""

import atexit
import os
import shutil
import tempfile

_CACHE_DIR = tempfile.mkdtemp(prefix="jaxlite-test-cache-")
os.environ["JAXLITE_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)

from hypothesis import HealthCheck, settings  # noqa: E402

_QUIET = [HealthCheck.too_slow]
# database=None: the default profile keeps no example database in the source tree.
settings.register_profile(
    "default", deadline=None, max_examples=25, database=None, suppress_health_check=_QUIET
)
settings.register_profile("fuzz", deadline=None, max_examples=2000, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
