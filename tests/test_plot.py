"""``app.log.plot()``: latency over time against the deadline, and answers by status (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import toolkit as tk  # noqa: E402


@pytest.fixture
def app() -> tk.App:
    app = tk.App("plotted")

    @app.handler("/greet")
    def greet(name: str):
        return f"Hello {name}!"

    @app.handler("/boom")
    def boom():
        raise RuntimeError("down")

    return app


def _traffic(app: tk.App) -> None:
    client = app.test_client()
    for body in ({"name": "Ada"}, {"name": "Bo"}, {}):  # 200, 200, 400
        client.post("/greet", json=body)
    client.post("/nowhere", json={})  # 404
    client.post("/boom", json={})  # 500


def test_latency_over_time_against_the_deadline_and_answers_by_status(app):
    _traffic(app)
    fig = app.log.plot()
    latency, by_status = fig.axes
    frame = app.log.to_frame()
    series, deadline = latency.get_lines()
    assert np.allclose(series.get_ydata(), frame["total_ms"].to_numpy())
    assert len(series.get_xdata()) == 5
    assert list(deadline.get_ydata()) == [5000.0, 5000.0]  # the app's deadline_s, in ms
    assert deadline.get_label() == "deadline 5 s" and deadline.get_linestyle() == "--"
    assert [t.get_text() for t in by_status.get_xticklabels()] == ["200", "400", "404", "500"]
    assert [p.get_height() for p in by_status.patches] == [2, 1, 1, 1]
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in by_status.patches]
    assert colours == ["#16a34a", "#d97706", "#d97706", "#dc2626"]
    assert fig._suptitle.get_text() == "5 exchanges"
    assert latency.get_title() == "latency" and by_status.get_title() == "answers by status"


def test_the_deadline_follows_the_setting_and_can_be_given(app):
    _traffic(app)
    app.configure(deadline_s=0.25)
    assert list(app.log.plot().axes[0].get_lines()[1].get_ydata()) == [250.0, 250.0]
    assert list(app.log.plot(deadline_s=2).axes[0].get_lines()[1].get_ydata()) == [2000.0, 2000.0]


def test_an_empty_log_plots_empty_axes(app):
    fig = app.log.plot(title="nothing yet")
    latency, by_status = fig.axes
    assert latency.get_title() == "latency (no requests yet)" and not by_status.patches
    assert fig._suptitle.get_text() == "nothing yet"
    assert [line.get_label() for line in latency.get_lines()] == ["deadline 5 s"]


def test_the_figure_is_not_left_open_in_pyplot(app):
    import matplotlib.pyplot as plt

    _traffic(app)
    before = plt.get_fignums()
    fig = app.log.plot()
    assert plt.get_fignums() == before  # shown once, as the cell's value, not again by pyplot
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2
