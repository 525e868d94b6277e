"""``app.log.plot()``: latency over time against the deadline, and answers by status (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import toolkit as tk  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """The plots are pyplot figures (the inline backend shows and closes them in a notebook)."""
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


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
    ax = app.log.plot()
    fig = ax.figure
    latency, by_status = fig.axes
    assert ax is latency
    frame = app.log.to_frame()
    series, deadline = latency.get_lines()
    assert np.allclose(series.get_ydata(), frame["total_ms"].to_numpy())
    assert len(series.get_xdata()) == 5
    assert list(deadline.get_ydata()) == [5000.0, 5000.0]  # the app's deadline_s, in ms
    # fast requests: the axis is scaled to them, and the deadline stays named in the legend
    assert deadline.get_label() == "deadline 5 s (above the chart)" and deadline.get_linestyle() == "--"
    assert latency.get_ylim() == (0, pytest.approx(max(frame["total_ms"].max() * 1.25, 1.0)))  # at least 1 ms
    assert [t.get_text() for t in by_status.get_xticklabels()] == ["200", "400", "404", "500"]
    assert [p.get_height() for p in by_status.patches] == [2, 1, 1, 1]
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in by_status.patches]
    assert colours == ["#16a34a", "#d97706", "#d97706", "#dc2626"]
    assert fig._suptitle.get_text() == "5 exchanges"
    assert latency.get_title() == "latency" and by_status.get_title() == "answers by status"


def test_the_deadline_follows_the_setting_and_can_be_given(app):
    _traffic(app)
    app.configure(deadline_s=0.25)
    assert list(app.log.plot().get_lines()[1].get_ydata()) == [250.0, 250.0]
    assert list(app.log.plot(deadline_s=2).get_lines()[1].get_ydata()) == [2000.0, 2000.0]


def test_a_deadline_within_the_data_is_a_labelled_line_inside_the_axis(app):
    import time

    @app.handler("/slow")
    def slow():
        time.sleep(0.06)
        return "done"

    app.call("/slow")
    ax = app.log.plot(deadline_s=0.05)
    (deadline,) = [line for line in ax.get_lines() if line.get_label().startswith("deadline")]
    assert deadline.get_label() == "deadline 0.05 s" and 50 < ax.get_ylim()[1] < 5000
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ms", "deadline 0.05 s"]


def test_time_tick_labels_are_not_repeated(app):
    import time

    for _ in range(4):
        app.call("/greet", {"name": "Ada"})
        time.sleep(0.3)
    ax = app.log.plot()
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels


def test_an_empty_log_plots_empty_axes(app):
    fig = app.log.plot(title="nothing yet").figure
    latency, by_status = fig.axes
    assert latency.get_title() == "latency (no requests yet)" and not by_status.patches
    assert fig._suptitle.get_text() == "nothing yet"
    assert [line.get_label() for line in latency.get_lines()] == ["deadline 5 s"]


def test_it_returns_the_axes_of_a_pyplot_figure_like_pandas(app):
    """pyplot keeps the figure, so the inline backend shows it once whether the cell ends with
    ``ax = app.log.plot()``, ``app.log.plot(); plt.show()`` or a bare call (tests/test_notebooks.py
    checks the PNG in a real kernel)."""
    import matplotlib.pyplot as plt

    _traffic(app)
    before = plt.get_fignums()
    ax = app.log.plot()
    assert plt.get_fignums() == [*before, ax.figure.number] and len(ax.figure.axes) == 2
    assert isinstance(ax, matplotlib.axes.Axes)


def test_a_notebook_shows_the_plot_once_however_the_cell_is_written():
    """In a real kernel with the inline backend: one PNG for ``fig = app.log.plot()``, one for
    ``app.log.plot(); plt.show()``, one for a bare last-line call (with the Axes as its text)."""
    import nbformat
    from nbclient import NotebookClient

    setup = ("import matplotlib.pyplot as plt\nimport toolkit\napp = toolkit.App('plotted')\n"
             "app.add_handler('/greet', lambda name='you': f'Hi {name}')\n"
             "for n in ('Ada', 'Bo'):\n    app.call('/greet', {'name': n})")
    cells = [setup, "fig = app.log.plot()", "app.log.plot(); plt.show()", "app.log.plot()"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    images = [[o for o in cell.outputs if "image/png" in o.get("data", {})] for cell in nb.cells]
    assert [len(i) for i in images] == [0, 1, 1, 1]
    texts = [o["data"]["text/plain"] for o in nb.cells[3].outputs if o.output_type == "execute_result"]
    assert texts == ["<Axes: title={'center': 'latency'}, xlabel='time', ylabel='ms'>"]
