"""The demo bot: BeanBox, a coffee shop. Handlers over the sample data shipped in the package
(``toolkit/demo/data/``: order tracking, a product carousel, the nearest store, lead capture written
to CSV, FAQ) and the Chatlayer side in ``demo_flow.yaml``.

``make demo`` (``toolkit demo``) copies the sample files into a folder you own (``--data DIR``,
default ``./toolkit-demo``; files already there are kept, so your leads stay), starts the embedded
server, plays a scripted conversation through the emulator over real HTTP, prints the transcript and
a log summary, then serves until Ctrl-C. ``--once`` exits after the transcript and, without
``--data``, works in a temporary folder deleted when it stops. Nothing is ever written into the
installed package.

>>> from toolkit import demo
>>> sorted(demo.FILES)[:3]
['demo_flow.yaml', 'faq.csv', 'leads.csv']
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import statistics
import sys
import tempfile
import threading
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from .. import messages as m
from ..app import App
from ..data import frames
from ..emulator import Conversation, Flow
from ..emulator.transcript import entry_text
from ..errors import ToolkitError
from ..reply import Reply

# The sample files the demo ships (package data, read with importlib.resources).
FILES = ("orders.csv", "products.csv", "stores.csv", "faq.csv", "leads.csv", "demo_flow.yaml")
DEFAULT_FOLDER = "toolkit-demo"


def copy_data(dest: str | Path) -> Path:
    """Copy the demo's sample files into ``dest`` (created if missing) and return it as a Path.

    Files already in ``dest`` are kept, so leads captured by an earlier run stay. Read through
    :mod:`importlib.resources`, so it works from any installed wheel.

    >>> import tempfile
    >>> folder = copy_data(tempfile.mkdtemp())
    >>> (folder / "leads.csv").read_text().strip()
    'name,email,phone,interest,created_at'
    """
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    shipped = resources.files(__name__) / "data"
    for name in FILES:
        target = folder / name
        if not target.exists():
            target.write_bytes((shipped / name).read_bytes())
    return folder


def _shipped_folder() -> Path:
    """The shipped sample files as a folder to *read* (never write into it: it is the installed package)."""
    shipped = resources.files(__name__) / "data"
    if isinstance(shipped, Path):
        return shipped
    return copy_data(tempfile.mkdtemp(prefix="toolkit-demo-"))  # a zipped install: a copy to read


DATA = _shipped_folder()
PHONE = "+32 2 000 00 00"

# The scripted conversation: (what the user does, what the bot's answer must contain).
SCRIPT: list[Any] = [
    ("", "Welcome to BeanBox"),
    ("Where is my order?", "order number"),
    ("A-1042", "Order A-1042 is shipped"),
    ("click: Browse products", "What are you looking for?"),
    ("click: Coffee", "Colombia Huila beans"),
    ({"click": "Choose", "card": "Colombia Huila beans 250 g", "expect": "image:"}),
    ("location: 50.8466, 4.3528", "BeanBox Brussels"),
    ("I'd like a quote for our office", "What is your name?"),
    ("Ada Lovelace", "e-mail"),
    ("ada@example", "does not look like an e-mail"),
    ("ada@example.com", "phone number"),
    ("+32 470 12 34 56", "Thanks Ada Lovelace"),
    ("How much is shipping?", "free from 50 EUR"),
]


def build_app(data_dir: str | Path | None = None, leads: str | Path | None = None) -> App:
    """The BeanBox backend over the sample files in ``data_dir``; leads are appended to ``leads``
    (default: ``data_dir``'s ``leads.csv``).

    Without ``data_dir`` it reads the shipped files, and then ``leads`` must name a file to write to.

    Raises:
        ToolkitError: no ``data_dir`` and no ``leads`` (the leads would go into the installed package).

    >>> app = build_app(copy_data(tempfile.mkdtemp()))
    >>> app.call("/order-status", {"order_id": "A-1042"})["session"]["data"]["status"]
    'shipped'
    """
    from ..data import Table

    if data_dir is None and leads is None:
        raise ToolkitError("build_app() needs a folder to write leads to; without data_dir it would write "
                           "into the installed package.",
                           hint="pass data_dir=demo.copy_data('toolkit-demo') (a copy you own) "
                           "or leads=PATH.")
    data = Path(data_dir) if data_dir is not None else DATA
    app = App("beanbox")
    orders = Table(data / "orders.csv", key="order_id")
    products = Table(data / "products.csv", key="sku")
    stores = Table(data / "stores.csv", key="store_id", dtype={"phone": str})
    faq = Table(data / "faq.csv")
    lead_table = Table(leads or data / "leads.csv", dtype={"phone": str})

    @app.handler("/order-status")
    def order_status(order_id: str, found: str = "", not_found: str = "") -> Reply:
        order = orders.get(order_id)
        if order is None:
            close = orders.suggest(order_id)
            guess = f" Did you mean {close[0]}?" if close else ""
            return Reply(session={"order": {"id": order_id, "found": False}},
                         messages=[f"I can't find order {order_id}.{guess}"],
                         next_dialogstate=not_found or None)
        keep = ("status", "eta", "carrier", "tracking_url", "total")
        session = {"id": order["order_id"], "found": True, **{k: order[k] for k in keep}}
        said = {"shipped": "is shipped with {order.carrier}, expected on {order.eta}",
                "processing": "is being prepared, expected on {order.eta}",
                "delivered": "was delivered on {order.eta}"}.get(order["status"], "is {order.status}")
        out: list[Any] = [m.text("Order {order.id} " + said + ".")]
        if order["tracking_url"]:
            out.append(m.buttons("Follow your parcel:", m.url_button("Track parcel", order["tracking_url"]),
                                 m.phone_button("Call us", PHONE)))
        return Reply(session={"order": session}, messages=out, next_dialogstate=found or None)

    @app.handler("/products")
    def product_list(category: str, chosen: str) -> Reply:
        rows = products.find(category=category)
        rows = rows[rows["stock"] > 0].head(5)
        if rows.empty:
            return Reply(messages=[f"Sorry, no {category} in stock right now."])
        cards = frames.carousel_from_frame(
            rows, title="name", subtitle="{price:.2f} EUR", image_url="image_url", url="url",
            button=lambda r: m.postback("Choose", chosen, {"product.sku": r["sku"]}))
        return Reply(messages=[m.text("Our {shop.category} favourites:"), cards])

    @app.handler("/product")
    def product(sku: str, sales: str) -> Reply:
        row = products[sku]
        session = {"sku": sku, "name": row["name"], "price": row["price"], "url": row["url"]}
        ask = m.postback("Ask sales about it", sales, {"lead.interest": row["name"]})
        return Reply(session={"product": session}, messages=[
            m.media(row["image_url"]),
            m.buttons("{product.name}: {product.price} EUR.",
                      m.url_button("View in the shop", row["url"]), ask)])

    @app.handler("/nearest-store")
    def nearest_store(lat: float, lon: float) -> Reply:
        store = stores.nearest(lat, lon).iloc[0].to_dict()
        keep = ("name", "address", "phone", "distance_km", "mon", "sat", "sun")
        directions = f"https://www.openstreetmap.org/?mlat={store['lat']}&mlon={store['lon']}#map=17"
        return Reply(session={"store": {k: store[k] for k in keep}}, messages=[
            m.text("The nearest shop is {store.name}, {store.address} ({store.distance_km} km away).",
                   "Open Mon-Fri {store.mon}, Sat {store.sat}, Sun {store.sun}."),
            m.buttons("Visit or call:", m.url_button("Directions", directions),
                      m.phone_button("Call the shop", store["phone"]))])

    @app.handler("/leads")
    def save_lead(name: str, email: str, phone: str = "", interest: str = "") -> Reply:
        created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        lead_table.append(name=name, email=email, phone=phone, interest=interest, created_at=created)
        return Reply(session={"lead": {"saved": True}}, messages=[
            "Thanks {lead.name}! Our sales team will contact you at {lead.email} within one working day."])

    @app.handler("/faq")
    def answer(question: str, sales: str) -> Reply:
        hit = _best_answer(faq.df, question)
        if hit is None:
            return Reply(messages=[m.quick_replies(
                "Sorry, I don't know that one. Shall I put you through to sales?",
                m.postback("Talk to sales", sales))])
        return Reply(messages=[hit])

    return app


def _best_answer(frame: Any, question: str) -> str | None:
    words = {w for w in re.findall(r"\w+", question.lower()) if len(w) > 2}
    best, score = None, 0
    for row in frame.to_dict("records"):
        text = f"{row['question']} {row['keywords']}".lower()
        found = sum(1 for w in words if re.search(rf"\b{re.escape(w)}", text))
        if found > score:
            best, score = str(row["answer"]), found
    return best if score >= 2 or (score and len(words) <= 2) else None


def build_flow(data_dir: str | Path | None = None) -> Flow:
    """The Chatlayer side of the demo, from ``demo_flow.yaml`` in ``data_dir`` (default: the shipped one)."""
    return Flow.load(Path(data_dir if data_dir is not None else DATA) / "demo_flow.yaml")


def play(conversation: Conversation, out: TextIO) -> bool:
    """Play :data:`SCRIPT` and print the transcript, turn by turn. Returns whether every turn passed."""
    report = conversation.run(SCRIPT)
    turn = 0
    for entry in conversation.transcript:
        if entry.get("sender") == "user" or turn == 0:
            turn += 1
            first = entry_text(entry) if entry.get("sender") == "user" else "(the user opens the chat)"
            print(f"{turn:>3}  {first}", file=out)
            if entry.get("sender") == "user":
                continue
        print(f"       {entry_text(entry)}", file=out)
    kinds = sorted({str(e["message"]["type"]) for e in conversation.transcript if e.get("sender") == "bot"})
    print(f"\nMessage types shown: {', '.join(kinds)}", file=out)
    if not report.passed:
        print(f"\n{report}", file=out)
    return report.passed


def log_summary(app: App) -> str:
    """One line per path: calls, statuses and the median time, from ``app.log``."""
    entries = app.log.entries()
    errors = sum(1 for e in entries if e.status >= 400)
    lines = [f"Log summary (app.log): {len(entries)} calls, {errors} errors"]
    for path in sorted({e.path for e in entries}):
        mine = [e for e in entries if e.path == path]
        statuses = ", ".join(f"{s} x{n}" for s, n in sorted(Counter(e.status for e in mine).items()))
        ms = statistics.median(e.total_ms for e in mine)
        lines.append(f"  {mine[0].method:<6} {path:<16} {len(mine):>2} call{'s' if len(mine) > 1 else ' '}  "
                     f"status {statuses:<10} median {ms:.1f} ms")
    return "\n".join(lines)


def main(once: bool = False, *, data_dir: str | Path | None = None, leads: str | Path | None = None,
         out: TextIO | None = None) -> int:
    """Run the demo: copy the sample files into ``data_dir``, serve, play the script over HTTP, print
    transcript and log summary; then serve until Ctrl-C (``once=True``: stop at once).

    ``data_dir`` defaults to ``./toolkit-demo``, or with ``once=True`` to a temporary folder deleted
    at the end. ``leads`` picks another file for the captured leads. Returns the exit code (1 when a
    scripted turn failed)."""
    out = out or sys.stdout
    scratch = Path(tempfile.mkdtemp(prefix="toolkit-demo-")) if data_dir is None and once else None
    try:
        data = copy_data(scratch or (data_dir if data_dir is not None else Path.cwd() / DEFAULT_FOLDER))
        lead_file = Path(leads) if leads is not None else data / "leads.csv"
        app, flow = build_app(data, lead_file), build_flow(data)
        before = _count_rows(lead_file)
        with app.serve(port=0) as server:
            then = "exits" if once else "keeps serving until you press Ctrl-C"
            print(f"BeanBox demo: a scripted conversation through the Chatlayer emulator, over HTTP to "
                  f"{server.url}; then it {then}.\n", file=out)
            passed = play(Conversation(flow, backend=server.url), out)
            print("\n" + log_summary(app), file=out)
            _print_leads(lead_file, before, scratch is not None and leads is None, out)
            if not once:
                _serve_until_interrupted(server, out)
        return 0 if passed else 1
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _count_rows(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()[1:]) if path.exists() else 0


def _print_leads(path: Path, before: int, temporary: bool, out: TextIO) -> None:
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    where = str(path)
    if temporary:
        where = "a temporary copy of the demo's leads.csv (deleted when the demo stops)"
    new = len(rows) - before
    kept = f" ({before} from earlier runs kept)" if before else ""
    print(f"\nLead capture wrote {new} row{'' if new == 1 else 's'} to {where}{kept}:", file=out)
    for row in rows[before:][-3:]:
        print(f"  {row}", file=out)


def _serve_until_interrupted(server: Any, out: TextIO) -> None:
    paths = ", ".join(sorted(server.app.handlers))
    idle = threading.Event()
    try:  # entered before the prompt, so an early Ctrl-C stops cleanly too
        print(f"\nServing {server.url} ({paths}). Press Ctrl-C to stop.", file=out, flush=True)
        while server.running:
            idle.wait(0.5)
    except KeyboardInterrupt:
        print("\nStopped.", file=out)
