"""``app.log.plot()``: the request log as two charts, drawn with pandas plotting on matplotlib
(imported on first use): the latency of each exchange over time against the deadline, and the
answers by status (2xx green, 3xx blue, 4xx orange, 5xx red)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .buffer import Log

COLOURS = {2: "#16a34a", 3: "#2563eb", 4: "#d97706", 5: "#dc2626"}
OTHER = "#6b7280"


def status_colour(status: int) -> str:
    return COLOURS.get(int(status) // 100, OTHER)


def plot_log(log: Log, deadline_s: float | None = None, *, title: str = "") -> Any:
    """A matplotlib Figure with two axes: ``latency`` (ms per exchange over time, the deadline as a
    dashed red line) and ``by status`` (a bar per status code). Closed for pyplot, so a notebook shows
    it once, as the cell's value."""
    import matplotlib.pyplot as plt

    frame = log.to_frame()
    fig, (latency, by_status) = plt.subplots(1, 2, figsize=(11, 3.6), width_ratios=(3, 1))
    plt.close(fig)
    fig.suptitle(title or f"{len(frame)} exchange{'s' * (len(frame) != 1)}")
    if frame.empty:
        latency.set_title("latency (no requests yet)")
    else:
        frame.plot(x="time", y="total_ms", ax=latency, style=".-", color="#374151", label="ms", legend=False)
        latency.set_title("latency")
    if deadline_s is not None:
        latency.axhline(deadline_s * 1000, color="#dc2626", linestyle="--",
                        label=f"deadline {deadline_s:g} s")
        latency.legend(loc="upper left")
    latency.set_xlabel("time")
    latency.set_ylabel("ms")
    counts = frame["status"].value_counts().sort_index()
    if not counts.empty:
        counts.plot.bar(ax=by_status, color=[status_colour(s) for s in counts.index], rot=0)
    by_status.set_title("answers by status")
    by_status.set_xlabel("status")
    by_status.set_ylabel("exchanges")
    fig.tight_layout()
    return fig
