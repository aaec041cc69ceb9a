"""The end-to-end stack (both sandboxes, the example project aimed at them) for the steps."""
from tests.e2e.conftest import pytest_generate_tests, stack  # noqa: F401
