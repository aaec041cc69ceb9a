"""The end-to-end stack (both sandboxes, the example project aimed at them) for the steps."""
from tests.e2e.conftest import stack  # noqa: F401
