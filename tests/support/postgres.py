"""The test PostgreSQL server, where there is one (scripts/test starts one where the machine can)."""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get("KBOT_TEST_POSTGRES_URL", "")
# One reason string, so the summary shows one line with the count of tests it skipped.
NO_POSTGRES = ("no PostgreSQL server: KBOT_TEST_POSTGRES_URL is not set (scripts/test starts one where the "
               "machine can install Debian's postgresql)")
requires_postgres = pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)
