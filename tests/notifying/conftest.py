"""The warning receivers (`receivers.py`) and the end-to-end stack, as fixtures."""
from tests.e2e.conftest import pytest_generate_tests, stack  # noqa: F401
from tests.notifying.receivers import smtp, webhook  # noqa: F401
