"""The API fixtures (test atlas, keys, live server) for the conformance tests."""

from tests.api.conftest import *  # noqa: F403
