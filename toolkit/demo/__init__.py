"""The demo bot: BeanBox, a coffee shop. Handlers over the sample data in ``data/`` (order tracking,
a product carousel, the nearest store, lead capture written to CSV, FAQ) and the Chatlayer side in
``data/demo_flow.yaml``.

``make demo`` (``python -m toolkit demo``) starts the embedded server, plays a scripted conversation
through the emulator over real HTTP, prints the transcript and a log summary, then serves until
Ctrl-C; ``--once`` exits after the transcript. Leads go to a temporary copy of ``data/leads.csv``
(deleted when the demo stops), so the committed file stays clean; ``main(leads=...)`` picks a file.
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
from pathlib import Path
from typing import Any, TextIO

from .. import messages as m
from ..app import App
from ..data import frames
from ..emulator import Conversation, Flow
from ..emulator.transcript import entry_text
from ..reply import Reply

DATA = Path(__file__).resolve().parents[2] / "data"
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


def build_app(data_dir: str | Path = DATA, leads: str | Path | None = None) -> App:
    """The BeanBox backend over ``data_dir``; leads are appended to ``leads`` (default: data_dir's)."""
    from ..data import Table

    data = Path(data_dir)
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


def build_flow(data_dir: str | Path = DATA) -> Flow:
    """The Chatlayer side of the demo, from ``data/demo_flow.yaml``."""
    return Flow.load(Path(data_dir) / "demo_flow.yaml")


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
    """Run the demo: serve, play the script over HTTP, print transcript and log summary; then serve
    until Ctrl-C (``once=True``: stop at once). Returns the exit code (1 when a scripted turn failed)."""
    out = out or sys.stdout
    data = Path(data_dir) if data_dir is not None else DATA
    scratch = Path(tempfile.mkdtemp(prefix="toolkit-demo-"))
    try:
        lead_file = Path(leads) if leads is not None else scratch / "leads.csv"
        if leads is None:
            shutil.copyfile(data / "leads.csv", lead_file)
        app, flow = build_app(data, lead_file), build_flow(data)
        with app.serve(port=0) as server:
            then = "exits" if once else "keeps serving until you press Ctrl-C"
            print(f"BeanBox demo: a scripted conversation through the Chatlayer emulator, over HTTP to "
                  f"{server.url}; then it {then}.\n", file=out)
            passed = play(Conversation(flow, backend=server.url), out)
            print("\n" + log_summary(app), file=out)
            _print_leads(lead_file, leads is None, out)
            if not once:
                _serve_until_interrupted(server, out)
        return 0 if passed else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _print_leads(path: Path, temporary: bool, out: TextIO) -> None:
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    where = "a temporary copy of data/leads.csv (data/leads.csv stays unchanged)" if temporary else str(path)
    print(f"\nLead capture wrote {len(rows)} row{'' if len(rows) == 1 else 's'} to {where}:", file=out)
    for row in rows[-3:]:
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
