"""Small shared fixtures. Every test builds its own App: no dependence on test order."""

from __future__ import annotations

import pytest

import toolkit


@pytest.fixture
def app() -> toolkit.App:
    app = toolkit.App("test")

    @app.handler("/greet")
    def greet(name: str = "there"):
        return f"Hello {name}!"

    return app


@pytest.fixture
def client(api):
    """A ChatlayerClient for the module's own ``api`` fixture (an emulated V1 API)."""
    with api.client() as client:
        yield client


@pytest.fixture
def demo_app(tmp_path):
    """The demo bot's app served on loopback, writing leads to a temp copy."""
    import shutil

    from toolkit.demo import DATA, build_app

    leads = tmp_path / "leads.csv"
    shutil.copyfile(DATA / "leads.csv", leads)
    app = build_app(leads=leads)
    server = app.serve(port=0)
    yield app
    server.stop()
