"""toolkit.Table: reads, reload on change, safe writes, errors that carry the fix, the log, sample data."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.data import Table, csvbackend, haversine_km, lookup
from toolkit.data import table as table_module
from toolkit.errors import KeyNotFound, TableError, TableFileNotFound, error_body
from toolkit.log import trace

DATA = Path(__file__).resolve().parents[1] / "data"

ORDERS = """order_id,customer,status,eta,total,items
A-1042,Emma Peeters,shipped,2025-03-16,12.50,2
A-1043,"De Smet, Lucas",processing,2025-03-18,3,1
A-1044,Chloé Maes,delivered,,99.95,4
"""


def write(path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    """Write a CSV like an editor would, and make sure its mtime moves (coarse clocks)."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    stamp = max(path.stat().st_mtime_ns, old + 1_000_000)
    os.utime(path, ns=(stamp, stamp))
    return path


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "orders.csv", ORDERS)


@pytest.fixture
def orders(orders_csv: Path) -> Table:
    return Table(orders_csv, key="order_id")


# --- 1. reading ---------------------------------------------------------------------------------


def test_get_returns_the_row_as_a_dict_of_plain_values(orders: Table):
    row = orders.get("A-1044")
    assert row == {"order_id": "A-1044", "customer": "Chloé Maes", "status": "delivered", "eta": None,
                   "total": 99.95, "items": 4}
    assert type(row["items"]) is int and type(row["total"]) is float
    assert isinstance(orders.df, pd.DataFrame) and len(orders.df) == 3


def test_get_forgives_spaces_and_numbers_sent_as_text(orders: Table, tmp_path: Path):
    assert orders.get("  A-1042 ")["customer"] == "Emma Peeters"
    assert orders.get("a-1043")["customer"] == "De Smet, Lucas"
    stores = Table(write(tmp_path / "stores.csv", "store_id,city\n7,Ghent\n12,Bruges\n"), key="store_id")
    assert stores.get("12")["city"] == "Bruges" and stores.get(7)["city"] == "Ghent"
    assert "12" in stores and "13" not in stores


def test_a_miss_returns_none_and_suggests_close_keys(orders: Table):
    assert orders.get("A-1024") is None
    assert orders.get("A-9999", default={}) == {}
    assert orders.suggest("A-1024")[0] in ("A-1042", "A-1043", "A-1044")
    close = orders.suggest("a-1042")
    assert close[0] == "A-1042" and sorted(close) == ["A-1042", "A-1043", "A-1044"]
    assert orders.suggest("zzzz") == []


def test_getitem_on_a_miss_raises_a_404_that_says_did_you_mean(orders: Table):
    with pytest.raises(KeyNotFound) as info:
        orders["A-10420"]
    assert isinstance(info.value, KeyError) and info.value.status == 404
    assert "Did you mean A-1042" in str(info.value) and info.value.suggestions[0] == "A-1042"
    assert error_body(info.value)["error"]["hint"]


def test_suggestions_on_a_big_table_probe_one_edit_away(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(lookup, "FULL_SCAN", 10)  # take the big-table path on a small file
    rows = "\n".join(f"A-{n}" for n in range(1000, 1200))
    table = Table(write(tmp_path / "big.csv", "order_id\n" + rows + "\n"), key="order_id")
    assert table.suggest("A-1024")[0] == "A-1024"
    assert "A-1042" in table.suggest("A-142", n=5)  # a missing digit
    assert "A-1042" in table.suggest("a-1402", n=5)  # case and a swap
    numbers = Table(write(tmp_path / "n.csv", "id\n" + "\n".join(map(str, range(500, 700))) + "\n"),
                    key="id")
    assert 612 in numbers.suggest("6120", n=5)


def test_find_compares_text_ignoring_case_and_accepts_lists(orders: Table):
    assert list(orders.find(status=" SHIPPED ")["order_id"]) == ["A-1042"]
    assert list(orders.find(status=["shipped", "delivered"])["order_id"]) == ["A-1042", "A-1044"]
    assert list(orders.find(items="4")["order_id"]) == ["A-1044"]  # "4" from a chat is a number here
    assert list(orders.find(eta=None)["order_id"]) == ["A-1044"]
    assert orders.find(status="shipped", items=1).empty


def test_find_names_unknown_columns_and_wrong_values(orders: Table):
    with pytest.raises(TableError, match=r"no column 'Status'.*Did you mean 'status'\?.*order_id, customer"):
        orders.find(Status="shipped")
    with pytest.raises(TableError, match=r"'items' of orders holds whole numbers, got 'many'"):
        orders.find(items="many")


def test_search_matches_every_word_ignoring_case(tmp_path: Path):
    faq = Table(DATA / "faq.csv")
    hits = faq.search("RETURN policy?")
    assert list(hits["question"]) == ["What is your return policy?"]
    assert len(faq.search("return")) > 1
    assert faq.search("descale", columns="keywords")["question"].iloc[0] == "How do I descale my machine?"
    assert faq.search("").empty and faq.search("   ?").empty
    with pytest.raises(TableError, match="no column 'keyword'"):
        faq.search("x", columns=["keyword"])


def test_nearest_sorts_by_great_circle_distance():
    stores = Table(DATA / "stores.csv", key="store_id")
    ghent = stores.nearest(51.0543, 3.7174)
    assert list(ghent["city"]) == ["Ghent"] and ghent["distance_km"].iloc[0] < 1
    three = stores.nearest("51.2194", "4.4025", n=3)  # strings, as a location quick reply sends them
    assert three["city"].iloc[0] == "Antwerp" and three["distance_km"].is_monotonic_increasing
    assert haversine_km(50.8467, 4.3525, 51.2194, 4.4025) == pytest.approx(41.6, abs=0.5)


def test_nearest_rejects_bad_coordinates_and_columns():
    stores = Table(DATA / "stores.csv")
    with pytest.raises(TableError, match="needs a lat between -90 and 90"):
        stores.nearest("north", 4.0)
    with pytest.raises(TableError, match="no column 'latitude'"):
        stores.nearest(51, 4, lat_col="latitude")


def test_repr_is_short_and_deterministic(orders: Table, tmp_path: Path):
    assert repr(orders) == "<Table orders: 3 rows, key order_id>"
    assert repr(Table(DATA / "leads.csv")) == "<Table leads: 0 rows>"


def test_a_table_without_key_explains_how_to_look_up(tmp_path: Path):
    leads = Table(DATA / "leads.csv")
    with pytest.raises(TableError, match=r"(?s)no key column.*key=\.\.\..*'name', 'email'"):
        leads.get("x")


# --- 2. reload on change ------------------------------------------------------------------------


def status_app(table: Table) -> toolkit.App:
    app = toolkit.App("data")

    @app.handler("/status")
    def status(order_id: str):
        row = table.get(order_id)
        return f"{order_id}: {row['status'] if row else 'unknown'}"

    return app


def answer(app: toolkit.App, order_id: str) -> str:
    return app.call("/status", {"order_id": order_id})["messages"][0]["config"]["textMessages"][0]["text"]


def test_an_outside_edit_is_seen_on_the_next_request(orders: Table, orders_csv: Path):
    app = status_app(orders)
    assert answer(app, "A-1042") == "A-1042: shipped"
    write(orders_csv, ORDERS.replace("A-1042,Emma Peeters,shipped", "A-1042,Emma Peeters,delivered"))
    assert answer(app, "A-1042") == "A-1042: delivered"
    assert orders.error is None


def test_a_file_replaced_while_it_loads_gives_the_version_opened_then_the_new_one(orders_csv: Path,
                                                                                monkeypatch):
    """pandas reads the path (faster than a file object); the load keeps it only when the file is
    still the version whose signature it records, so a change is never missed."""
    from toolkit.data import csvload as load_module

    real = pd.read_csv
    replaced: list[bool] = []

    def replace_then_read(source, **options):
        if isinstance(source, str) and not replaced:  # another program saves between open and read
            replaced.append(True)
            newer = orders_csv.with_name("newer.csv")
            write(newer, ORDERS.replace("A-1042,Emma Peeters,shipped", "A-1042,Emma Peeters,delivered"))
            os.replace(newer, orders_csv)
        return real(source, **options)

    monkeypatch.setattr(load_module.pd, "read_csv", replace_then_read)
    table = Table(orders_csv, key="order_id")
    assert replaced and table.get("A-1042")["status"] == "shipped"  # the version opened, whole
    assert answer(status_app(table), "A-1042") == "A-1042: delivered"  # then the new one, at once


def test_the_file_is_looked_at_once_per_request(orders: Table, monkeypatch):
    checks = []
    original = csvbackend.CsvBackend.refresh  # every look at the file, whichever read asks first
    monkeypatch.setattr(csvbackend.CsvBackend, "refresh", lambda self: checks.append(1) or original(self))
    with trace():
        for _ in range(5):
            orders.get("A-1042"), orders.df, len(orders)
    assert len(checks) == 1
    with trace():
        orders.get("A-1042")
    assert len(checks) == 2


class _Clock:
    """Stands in for the ``time`` module inside toolkit.data.table: ``monotonic()`` reads ``clock[0]``."""

    def __init__(self, clock: list[float]) -> None:
        self._clock = clock

    def monotonic(self) -> float:
        return self._clock[0]

    def __getattr__(self, name: str):
        return getattr(time, name)


def test_outside_a_request_the_check_is_throttled(orders_csv: Path, monkeypatch):
    clock = [1000.0]
    # Only the table module's clock: patching time.monotonic itself changed it for every thread of
    # the process (servers and pollers of other tests still winding down).
    monkeypatch.setattr(table_module, "time", _Clock(clock))
    orders = Table(orders_csv, key="order_id")
    write(orders_csv, ORDERS + "A-1045,New Row,processing,,1,1\n")
    clock[0] += table_module.CHECK_INTERVAL_S / 2
    assert len(orders) == 3  # within the interval: not looked at yet
    clock[0] += table_module.CHECK_INTERVAL_S
    assert len(orders) == 4


def test_a_bad_edit_keeps_the_last_good_version(orders: Table, orders_csv: Path):
    app = status_app(orders)
    good = orders.version
    write(orders_csv, ORDERS + "A-1045,Jules Claes,shipped,2025-03-20,5,1,EXTRA\n")
    assert answer(app, "A-1043") == "A-1043: processing"  # still served
    assert "line 5" in orders.error and "6 fields" not in orders.error
    assert re.search(r"7 fields where the header has 6 on line 5", orders.error)
    assert "last good version" in orders.error and "Fix:" in orders.error
    entry = app.log.last()
    assert entry.tables == {"orders": good} and "stale:orders" in entry.flags
    assert "reload failed" in repr(orders)
    write(orders_csv, ORDERS + "A-1045,Jules Claes,shipped,2025-03-20,5,1\n")
    assert answer(app, "A-1045") == "A-1045: shipped"
    assert orders.error is None and "stale:orders" not in app.log.last().flags


@pytest.mark.parametrize("bad, found", [
    ("", "empty"),  # an editor that truncated the file before writing it again
    (ORDERS + "A-1042,Twice,shipped,,1,1\n", "duplicate keys: 'A-1042' on lines 2, 5"),
    (ORDERS.replace("order_id", "id"), "no key column 'order_id'"),
    (ORDERS + 'A-1046,"Unfinished,shipped,,1,1\n', "never closed starts on line 5"),
])
def test_bad_files_keep_the_last_good_version(orders: Table, orders_csv: Path, bad: str, found: str):
    write(orders_csv, bad)
    with trace():
        assert orders.get("A-1044")["customer"] == "Chloé Maes"
    assert found in orders.error
    with pytest.raises(TableError, match=re.escape(found)):
        orders.reload()
    assert len(orders) == 3


def test_a_deleted_file_keeps_the_last_good_version(orders: Table, orders_csv: Path):
    orders_csv.unlink()
    with trace():
        assert orders.get("A-1042") is not None
    assert "moved or deleted" in orders.error


# --- 3. writing back ----------------------------------------------------------------------------


def test_append_update_delete_are_persisted(orders: Table, orders_csv: Path):
    added = orders.append({"order_id": "A-1045", "customer": "Jules Claes"}, status="processing", total="7.5")
    assert added == {"order_id": "A-1045", "customer": "Jules Claes", "status": "processing", "eta": None,
                     "total": 7.5, "items": None}
    assert orders.update("A-1043", status="shipped", items="2")["status"] == "shipped"
    assert orders.delete("A-1044")["customer"] == "Chloé Maes"
    assert orders_csv.read_text() == (
        "order_id,customer,status,eta,total,items\n"
        "A-1042,Emma Peeters,shipped,2025-03-16,12.50,2\n"  # untouched: 12.50 keeps its zero
        'A-1043,"De Smet, Lucas",shipped,2025-03-18,3,2\n'
        "A-1045,Jules Claes,processing,,7.5,\n")
    assert list(orders.df["order_id"]) == ["A-1042", "A-1043", "A-1045"]  # seen at once
    assert list(pd.read_csv(orders_csv)["status"]) == ["shipped", "shipped", "processing"]


def test_writes_keep_delimiter_bom_line_ends_decimal_comma_and_quoting(tmp_path: Path):
    text = '"sku";"name";"price"\n"CF-1";"Koffie; sterk";"12,50"\n"CF-2";"Thee";"3,00"\n'
    path = write(tmp_path / "products.csv", text, encoding="utf-8-sig", newline="\r\n")
    table = Table(path, key="sku")
    assert table.get("CF-1") == {"sku": "CF-1", "name": "Koffie; sterk", "price": 12.5}
    table.append(sku="CF-3", name='Mok "XL"', price=4.25)
    table.update("CF-2", price="3,5")
    table.delete("CF-1")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert raw.decode("utf-8-sig") == ('"sku";"name";"price"\r\n"CF-2";"Thee";"3,5"\r\n'
                                       '"CF-3";"Mok ""XL""";"4,25"\r\n')
    assert table.get("CF-3")["price"] == 4.25


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected_and_kept(tmp_path: Path, sep: str):
    path = write(tmp_path / "shops.csv", f"id{sep}city{sep}note\n1{sep}Ghent{sep}\"two\nlines\"\n2{sep}Bruges{sep}x\n")
    shops = Table(path, key="id")
    assert shops.get(1)["note"] == "two\nlines" and shops.columns == ["id", "city", "note"]
    shops.update(2, city="Brugge")
    shops.append(id=3, city="Leuven", note=f"a{sep}b")
    shops.delete(1)
    assert path.read_text() == f"id{sep}city{sep}note\n2{sep}Brugge{sep}x\n3{sep}Leuven{sep}\"a{sep}b\"\n"


def test_minimal_and_nonnumeric_quoting_are_kept(tmp_path: Path):
    plain = Table(write(tmp_path / "a.csv", "id,city\n1,Ghent\n"), key="id")
    plain.append(id=2, city="Liège, BE")
    assert (tmp_path / "a.csv").read_text() == 'id,city\n1,Ghent\n2,"Liège, BE"\n'
    quoted = Table(write(tmp_path / "b.csv", '"id","city"\n1,"Ghent"\n'), key="id")
    quoted.append(id=2, city="Bruges")
    assert (tmp_path / "b.csv").read_text() == '"id","city"\n1,"Ghent"\n2,"Bruges"\n'


def test_a_file_without_final_newline_gets_one_before_the_new_row(tmp_path: Path):
    path = write(tmp_path / "leads.csv", "name,email\nAnn,ann@example.com")
    Table(path).append(name="Bart", email="bart@example.com")
    assert path.read_text() == "name,email\nAnn,ann@example.com\nBart,bart@example.com\n"


def test_bad_writes_name_the_problem_and_write_nothing(orders: Table, orders_csv: Path):
    before = orders_csv.read_bytes()
    cases = [
        (lambda: orders.append(order_id="A-1050", colour="red"), r"no column 'colour'.*order_id, customer"),
        (lambda: orders.append(order_id="A-1050", colour=1, size=2), r"no columns 'colour', 'size'"),
        (lambda: orders.append(order_id="A-1050", total="twelve"),
         r"'total' of orders holds numbers, got 'twelve' \(str\).*Fix: Pass a value like 12.5"),
        (lambda: orders.append(order_id="A-1050", items=2.5), r"holds whole numbers, got 2.5"),
        (lambda: orders.append(order_id="A-1050", customer=["a", "b"]), r"holds text, got \['a', 'b'\]"),
        (lambda: orders.append(customer="No Key"), r"needs a order_id"),
        (lambda: orders.append(order_id="A-1042"), r"already has a row with order_id 'A-1042'.*update"),
        (lambda: orders.update("A-1042", order_id="A-1043"), r"already has a row with order_id 'A-1043'"),
        (lambda: orders.update("A-1042"), r"no column to change"),
        (lambda: orders.update("A-1024", status="x"), r"Did you mean A-1042"),
        (lambda: orders.delete("nope"), r"No row of orders has order_id 'nope'"),
    ]
    for call, message in cases:
        with pytest.raises(TableError, match=re.compile(message, re.S)):
            call()
    assert orders_csv.read_bytes() == before


def test_updates_go_through_a_temp_file_in_the_same_folder(orders: Table, orders_csv: Path, monkeypatch):
    orders_csv.chmod(0o640)
    moves = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: moves.append((src, dst)) or real_replace(src, dst))
    orders.update("A-1042", status="delivered")
    (src, dst), = moves
    assert Path(src).parent == orders_csv.parent and dst == str(orders_csv)
    assert orders_csv.stat().st_mode & 0o777 == 0o640
    before = orders_csv.read_bytes()
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        orders.update("A-1042", status="returned")
    assert orders_csv.read_bytes() == before
    assert sorted(p.name for p in orders_csv.parent.iterdir()) == [".orders.csv.lock", "orders.csv"]  # no temp


def test_an_append_writes_only_the_new_line_and_does_not_reread(orders: Table, orders_csv: Path, monkeypatch):
    inode, before = orders_csv.stat().st_ino, orders_csv.read_bytes()
    monkeypatch.setattr(os, "replace", lambda *a: pytest.fail("an append must not rewrite the file"))
    monkeypatch.setattr(csvbackend, "load", lambda *a, **k: pytest.fail("an append must not re-read the file"))
    with trace():
        orders.append(order_id="A-1050", customer="Noor", total=5)
        assert orders.get("A-1050")["customer"] == "Noor" and orders.get("a-1050")["total"] == 5.0
    with trace():
        assert len(orders) == 4 and orders.df["order_id"].tolist()[-1] == "A-1050"
        assert orders.get("A-1042")["status"] == "shipped" and orders.suggest("A-1O50")[0] == "A-1050"
    assert orders_csv.stat().st_ino == inode
    assert orders_csv.read_bytes() == before + b"A-1050,Noor,,,5,\n"
    monkeypatch.undo()
    fresh = Table(orders_csv, key="order_id")
    assert fresh.get("A-1050") == orders.get("A-1050")
    assert fresh.df.equals(orders.df)


def test_a_handler_sees_its_own_write_in_the_same_request(orders: Table):
    app = toolkit.App("data")

    @app.handler("/book")
    def book(order_id: str):
        orders.get("A-1042")  # the file was looked at for this request already
        orders.append(order_id=order_id, status="processing")
        return orders.get(order_id)["status"]

    assert app.call("/book", {"order_id": "A-1099"})["messages"][0]["config"]["textMessages"][0]["text"] \
        == "processing"


def test_sixteen_threads_append_3200_rows_while_the_file_always_parses(tmp_path: Path):
    path = write(tmp_path / "leads.csv", "name,email,thread,n\n")
    tables = [Table(path), Table(path)]  # two objects on one file share the lock
    done = threading.Event()
    seen: list[int] = []
    problems: list[str] = []
    # Half-way, every writer waits until the reader has parsed the file: a read in the middle is
    # certain, not left to scheduling (the old check was "more than 10 reads, one in between").
    halfway = threading.Barrier(16 + 1, timeout=120)

    def reader() -> None:
        while True:
            last = done.is_set()  # one more parse after the writers are done
            paused = not halfway.broken and halfway.n_waiting == 16  # every writer stopped at 1600 rows
            try:
                frame = pd.read_csv(path)
            except Exception as exc:  # a half-written file would land here
                problems.append(f"{type(exc).__name__}: {exc}")
                continue
            if list(frame.columns) != ["name", "email", "thread", "n"] or frame.isna().any().any():
                problems.append(f"bad frame of {len(frame)} rows")
            if seen and len(frame) < seen[-1]:
                problems.append(f"rows went back from {seen[-1]} to {len(frame)}")
            seen.append(len(frame))
            if paused:
                if len(frame) != 1600:
                    problems.append(f"{len(frame)} rows read while the writers waited at 1600")
                halfway.wait()
            if last:
                return

    def writer(t: int) -> None:
        for n in range(200):
            if n == 100:
                halfway.wait()
            tables[t % 2].append(name=f'Lead "{t}", Gent é', email=f"lead{t}.{n}@example.com", thread=t, n=n)

    watcher = threading.Thread(target=reader)
    watcher.start()
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()
    final = pd.read_csv(path)
    assert len(final) == 3200
    assert set(zip(final["thread"], final["n"], strict=True)) == {(t, n) for t in range(16) for n in range(200)}
    assert not problems, problems[:3]
    assert 1600 in seen and seen[-1] == 3200  # read whole in the middle and at the end
    assert len(tables[0]) == len(tables[1]) == 3200


def test_concurrent_appends_each_get_their_own_error_or_row(tmp_path: Path):
    table = Table(write(tmp_path / "bookings.csv", "booking_id,seats\nfirst,2\n"), key="booking_id")
    errors: list[str] = []

    def book(t: int) -> None:
        for n in range(20):
            try:
                table.append(booking_id=f"{t}-{n}", seats="many" if n % 5 == 0 else n)
                table.append(booking_id=f"{t}-{n}", seats=1) if n == 1 else None  # a duplicate key
            except TableError as exc:
                errors.append(str(exc).splitlines()[0])

    threads = [threading.Thread(target=book, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(table) == 1 + 8 * 16
    assert sum("holds whole numbers, got 'many'" in e for e in errors) == 8 * 4
    assert sum("already has a row with booking_id" in e for e in errors) == 8


def test_a_write_is_not_lost_by_a_concurrent_reload(orders_csv: Path, monkeypatch):
    monkeypatch.setattr(table_module, "CHECK_INTERVAL_S", 0.0)  # reload as often as possible
    writer_table, reader_table = Table(orders_csv, key="order_id"), Table(orders_csv, key="order_id")
    done = threading.Event()

    def keep_reading() -> None:
        while not done.is_set():
            len(reader_table), len(writer_table)

    watcher = threading.Thread(target=keep_reading)
    watcher.start()
    try:
        for n in range(60):
            writer_table.append(order_id=f"B-{n}", status="processing")
    finally:
        done.set()
        watcher.join()
    assert len(writer_table) == len(reader_table) == len(pd.read_csv(orders_csv)) == 63


def test_a_reload_between_an_append_and_its_update_in_memory_keeps_the_row_once(orders_csv: Path, monkeypatch):
    """The interleaving behind the flaky test above, forced with events: a reload opens the file
    (version 1); an append writes its line (version 2); the reload reads the file, the new line
    included, and finishes; only then does the append take its row into memory. The reload must
    record the version it read (2), not the one it opened (1), or the row is added a second time."""
    from toolkit.data import csvload

    monkeypatch.setattr(table_module, "CHECK_INTERVAL_S", 1e9)  # no look at the file: what is in memory
    table = Table(orders_csv, key="order_id")
    opened, go_read, written, reloaded = (threading.Event() for _ in range(4))
    real_read_csv, real_appended = pd.read_csv, csvbackend.CsvBackend.appended

    def read_csv_after_a_pause(source, **options):
        if threading.current_thread() is reloader and not opened.is_set():
            opened.set()  # the file is open and its signature taken: hold the read back
            assert go_read.wait(10)
        return real_read_csv(source, **options)

    def appended_after_the_reload(self, rows, before, after):
        written.set()  # the line is in the file, its row not yet in memory
        assert reloaded.wait(10)
        real_appended(self, rows, before, after)

    monkeypatch.setattr(csvload.pd, "read_csv", read_csv_after_a_pause)
    monkeypatch.setattr(csvbackend.CsvBackend, "appended", appended_after_the_reload)
    reloader = threading.Thread(target=lambda: (table.reload(), reloaded.set()))
    appender = threading.Thread(target=lambda: table.append(order_id="A-1050", status="processing"))
    reloader.start()
    assert opened.wait(10)
    appender.start()
    assert written.wait(10)
    go_read.set()
    for thread in (reloader, appender):
        thread.join(10)
        assert not thread.is_alive()
    assert reloaded.is_set() and len(pd.read_csv(orders_csv)) == 4
    assert len(table) == 4 and table.df["order_id"].tolist() == ["A-1042", "A-1043", "A-1044", "A-1050"]
    assert table.reload().df.equals(Table(orders_csv, key="order_id").df)


# --- 4. errors that carry the fix ---------------------------------------------------------------


def test_a_missing_file_names_the_absolute_path_and_the_csv_files_nearby(orders_csv: Path, monkeypatch):
    monkeypatch.chdir(orders_csv.parent)
    with pytest.raises(TableFileNotFound) as info:
        Table("order.csv", key="order_id")
    message = str(info.value)
    assert str(orders_csv.parent / "order.csv") in message
    assert "Did you mean 'orders.csv'?" in message and "CSV files nearby: orders.csv" in message
    assert isinstance(info.value, FileNotFoundError) and "Fix:" in message


def test_a_missing_key_column_lists_the_columns(orders_csv: Path):
    with pytest.raises(TableError, match=r"no key column 'orderid'\. Did you mean 'order_id'\? Its columns "
                                         r"are: order_id, customer, status, eta, total, items"):
        Table(orders_csv, key="orderid")


def test_duplicate_keys_name_the_keys_and_their_lines(tmp_path: Path):
    text = 'id,note\nA,"two\nlines"\nB,x\nA,y\nB,z\nC,w\n'
    with pytest.raises(TableError, match=r"duplicate keys: 'A' on lines 2, 5; 'B' on lines 4, 6"):
        Table(write(tmp_path / "dups.csv", text), key="id")


def test_unparseable_rows_give_their_line_numbers(tmp_path: Path):
    multi = 'id,note\n1,"spans\ntwo lines"\n2,ok\n3,too,many\n'
    with pytest.raises(TableError, match=r"(?s)3 fields where the header has 2 on line 5.*in double quotes"):
        Table(write(tmp_path / "a.csv", multi))
    with pytest.raises(TableError, match=r"more fields than the 2 of the header on line 2"):
        Table(write(tmp_path / "b.csv", "id,note\n1,a,b\n2,c\n"))
    with pytest.raises(TableError, match=r"(?s)'id' is empty on lines 3, 4.*Give every row a id"):
        Table(write(tmp_path / "c.csv", "id,note\n1,a\n,b\n,c\n"), key="id")
    with pytest.raises(TableError, match=r"column 'n' holds text where float64 is expected \('x'\) on line 3"):
        Table(write(tmp_path / "d.csv", "id,n\n1,2\n2,x\n"), dtype={"n": float})


def test_a_file_that_is_not_utf8_suggests_the_encoding(tmp_path: Path):
    path = tmp_path / "excel.csv"
    path.write_bytes("city\nGhent\nLiège\n".encode("cp1252"))
    with pytest.raises(TableError, match=r"(?s)not utf-8 text \(first bad byte on line 3\).*encoding='cp1252'"):
        Table(path)
    assert Table(path, encoding="cp1252").df["city"].iloc[1] == "Liège"


def test_options_that_cannot_work_are_refused(orders_csv: Path):
    with pytest.raises(TableError, match="chunksize"):
        Table(orders_csv, chunksize=10)


def test_a_handler_error_from_a_table_answers_with_the_fix(orders: Table):
    app = toolkit.App("data")

    @app.handler("/order")
    def order(order_id: str):
        return orders[order_id]["status"]

    response = app.test_client().post("/order", json={"order_id": "A-1024"})
    assert response.status_code == 404
    assert "Did you mean A-1042" in response.get_json()["error"]["message"]


# --- 5. the request log records table versions --------------------------------------------------


def test_each_log_entry_records_the_version_of_every_table_read(orders: Table, orders_csv: Path):
    products = Table(DATA / "products.csv", key="sku")
    app = toolkit.App("data")

    @app.handler("/basket")
    def basket(order_id: str, sku: str):
        return f"{orders.get(order_id)['status']} {products.get(sku)['name']}"

    @app.handler("/hello")
    def hello():
        return "hi"

    app.call("/basket", {"order_id": "A-1042", "sku": "CF-1001"})
    first = app.log.last().tables
    assert first == {"orders": orders.version, "products": products.version}
    assert first["orders"] == f"mtime:{orders_csv.stat().st_mtime_ns}"
    app.call("/hello")
    assert app.log.last().tables == {}
    write(orders_csv, ORDERS.replace("12.50", "13.50"))
    app.call("/basket", {"order_id": "A-1042", "sku": "CF-1001"})
    assert app.log.last().tables["orders"] != first["orders"]
    assert app.log.last().tables["products"] == first["products"]


# --- 6. the sample data -------------------------------------------------------------------------


def test_sample_orders_are_coherent():
    orders = Table(DATA / "orders.csv", key="order_id")
    products = Table(DATA / "products.csv", key="sku")
    df = orders.df
    assert len(df) >= 200 and orders.get("A-1042")["status"] == "shipped"
    assert set(df["status"]) == {"processing", "shipped", "delivered", "cancelled", "returned"}
    unshipped = df["status"].isin(["processing", "cancelled"])
    assert df.loc[unshipped, "carrier"].isna().all() and df.loc[~unshipped, "carrier"].notna().all()
    assert df.loc[~unshipped, "tracking_url"].str.startswith("https://").all()
    assert (df["eta"].isna() == (df["status"] == "cancelled")).all()
    dated = df[df["eta"].notna()]
    assert (pd.to_datetime(dated["eta"]) > pd.to_datetime(dated["order_date"])).all()
    skus = {item.split(" x")[0] for items in df["items"] for item in items.split("; ")}
    assert skus <= set(products.df["sku"])
    assert df["email"].str.fullmatch(r"[a-z.]+@example\.(com|org|net)").all()


def test_sample_products_stores_faq_and_leads_are_usable():
    products = Table(DATA / "products.csv", key="sku").df
    assert {"coffee", "tea", "equipment", "accessories"} == set(products["category"])
    assert products["image_url"].str.startswith("https://").all() and (products["price"] > 0).all()
    stores = Table(DATA / "stores.csv", key="store_id").df
    assert stores["lat"].between(49.5, 53.6).all() and stores["lon"].between(2.5, 7.3).all()
    assert set(stores["country"]) == {"BE", "NL"}
    days = stores[["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    assert days.map(lambda h: h == "closed" or re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", h) is not None).all().all()
    faq = Table(DATA / "faq.csv").df
    assert len(faq) >= 20 and faq.notna().all().all()
    leads = Table(DATA / "leads.csv")
    assert leads.columns == ["name", "email", "phone", "interest", "created_at"] and len(leads) == 0
    total = sum(len(Table(p).df) for p in DATA.glob("*.csv"))
    assert total >= 300


def test_appending_a_lead_to_a_copy_of_the_sample_file(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_bytes((DATA / "leads.csv").read_bytes())
    leads = Table(path, dtype={"phone": str})
    leads.append(name="Emma Peeters", email="emma@example.com", phone="0470 12 34 56",
                 interest="subscription", created_at=pd.Timestamp("2025-03-14 10:30"))
    assert leads.df.iloc[0]["created_at"] == "2025-03-14 10:30:00"
    assert path.read_text().splitlines()[1] == \
        "Emma Peeters,emma@example.com,0470 12 34 56,subscription,2025-03-14 10:30:00"
