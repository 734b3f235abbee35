"""Markers shared by every test folder."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long end-to-end checks (run in CI; deselect with -m 'not slow')")
