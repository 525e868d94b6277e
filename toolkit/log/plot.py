"""``app.log.plot()``: the request log as two charts, drawn on matplotlib (imported on first use): the
latency of each exchange over time with the deadline as a labelled line, and the answers by status
(2xx green, 3xx blue, 4xx orange, 5xx red).

It behaves like pandas' ``.plot()``: the figure is a pyplot figure, so a notebook's inline backend shows
it once when the cell ends (``ax = app.log.plot()``, ``app.log.plot(); plt.show()`` and a bare last-line
call alike), and the call returns the latency Axes (the other one is ``ax.figure.axes[1]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .buffer import Log

COLOURS = {2: "#16a34a", 3: "#2563eb", 4: "#d97706", 5: "#dc2626"}
OTHER = "#6b7280"
HEADROOM = 1.25  # the latency axis goes this far above the slowest exchange


def status_colour(status: int) -> str:
    return COLOURS.get(int(status) // 100, OTHER)


def plot_log(log: Log, deadline_s: float | None = None, *, title: str = "") -> Any:
    """Draw ``log`` on a new pyplot figure and return its latency Axes.

    The latency axis is scaled to the data; the deadline is a dashed red line labelled
    ``deadline 5 s``, or, when it lies above every exchange, a legend entry ending in "(above the chart)".
    Example: ``ax = app.log.plot(); ax.figure.savefig("log.png")``.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    frame = log.to_frame()
    fig, (latency, by_status) = plt.subplots(1, 2, figsize=(11, 3.6), width_ratios=(3, 1))
    fig.suptitle(title or f"{len(frame)} exchange{'s' * (len(frame) != 1)}")
    top = deadline_s * 1000 * HEADROOM if deadline_s else 1.0  # an empty log: the deadline, in view
    if frame.empty:
        latency.set_title("latency (no requests yet)")
    else:
        latency.plot(frame["time"], frame["total_ms"], ".-", color="#374151", label="ms")
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)  # type: ignore[no-untyped-call]
        latency.xaxis.set_major_locator(locator)
        latency.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        latency.set_title("latency")
        top = max(float(frame["total_ms"].max()) * HEADROOM, 1.0)
    latency.set_ylim(0, top)
    if deadline_s is not None:
        _deadline(latency, deadline_s, top)
    latency.set_xlabel("time")
    latency.set_ylabel("ms")
    counts = frame["status"].value_counts().sort_index()
    if not counts.empty:
        counts.plot.bar(ax=by_status, color=[status_colour(s) for s in counts.index], rot=0)
    by_status.set_title("answers by status")
    by_status.set_xlabel("status")
    by_status.set_ylabel("exchanges")
    fig.tight_layout()
    return latency


def _deadline(ax: Any, deadline_s: float, top: float) -> None:
    """The deadline as a labelled dashed line; kept in the legend when it lies above the chart."""
    ms = deadline_s * 1000
    label = f"deadline {deadline_s:g} s" + ("" if ms <= top else " (above the chart)")
    ax.axhline(ms, color="#dc2626", linestyle="--", label=label)
    ax.set_ylim(0, top)  # axhline must not stretch the axis to the deadline
    ax.legend(loc="best", handles=[h for h in ax.get_lines() if not h.get_label().startswith("_")])
