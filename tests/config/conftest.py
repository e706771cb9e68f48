"""The deploy tests' fixtures (fake clock, test packaging, `run`), shared by the config tests."""

from tests.deploy.conftest import clock, handlers_source, packaging, run  # noqa: F401
