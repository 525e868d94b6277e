"""toolkit.Table over SQLite and PostgreSQL: every method, validation, errors with the fix, processes."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from databases import BACKENDS, POSTGRES, database

import toolkit
from toolkit.data import Table
from toolkit.data.sqlbackend import SqlBackend
from toolkit.errors import KeyNotFound, TableDatabaseError, TableError
from toolkit.log import sandbox, trace

STORES = """store_id,city,name,lat,lon,seats,open
1,Ghent,BeanBox Korenmarkt,51.0543,3.7219,30,True
2,Antwerp,BeanBox Meir,51.2177,4.4091,45,True
3,Brussels,BeanBox Sablon,50.8400,4.3556,20,False
"""


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path: Path):
    yield from database(request.param, tmp_path)


@pytest.fixture
def stores(url: str, tmp_path: Path) -> Table:
    csv = tmp_path / "stores.csv"
    csv.write_text(STORES)
    return Table(csv, key="store_id").copy_to(url, progress=False)


def test_a_url_gives_a_database_table_with_the_csv_api(stores: Table, url: str):
    assert type(stores) is Table and isinstance(stores._backend, SqlBackend)  # one class, a database backend
    assert re.fullmatch(r"<Table stores \((sqlite|postgresql)\): 3 rows, key store_id>", repr(stores))
    assert stores.columns == ["store_id", "city", "name", "lat", "lon", "seats", "open"]
    assert len(stores) == 3 and 2 in stores and "2" in stores and " 2 " in stores and 9 not in stores
    assert stores.get(1) == {"store_id": 1, "city": "Ghent", "name": "BeanBox Korenmarkt", "lat": 51.0543,
                             "lon": 3.7219, "seats": 30, "open": True}
    assert stores.get("3")["city"] == stores.get(3.0)["city"] == "Brussels"
    assert stores.get("x") is None and stores.get(7, "none") == "none"
    again = Table(url, table="stores", key="store_id")
    assert again.get(2)["name"] == "BeanBox Meir" and again.version.startswith("db:")
    assert list(stores.df["city"]) == ["Ghent", "Antwerp", "Brussels"]


def test_text_keys_are_matched_forgivingly(url: str, tmp_path: Path):
    csv = tmp_path / "orders.csv"
    csv.write_text("order_id,status\nA-1042,shipped\nA-1043,processing\n")
    orders = Table(csv, key="order_id").copy_to(url, progress=False)
    assert orders.get(" a-1042 ")["status"] == "shipped" and orders.get("A-1043")["status"] == "processing"
    assert orders.suggest("A-1024")[0] == "A-1042" and orders.suggest("A-1034")[0] == "A-1043"
    with pytest.raises(KeyNotFound, match="Did you mean A-1042") as info:
        orders["A-1024"]
    assert info.value.status == 404 and info.value.suggestions[0] == "A-1042"


def test_find_search_nearest_work_on_the_frame(stores: Table):
    assert list(stores.find(city="ghent")["store_id"]) == [1]
    assert list(stores.find(city=["Ghent", "Antwerp"], open=True)["store_id"]) == [1, 2]
    assert list(stores.search("beanbox meir")["store_id"]) == [2]
    near = stores.nearest(51.05, 3.72, n=2)
    assert list(near["store_id"]) == [1, 3] and near["distance_km"].iloc[0] < 1
    with pytest.raises(TableError, match="no column 'town'.*Did you mean|no column 'town'"):
        stores.find(town="Ghent")


def test_append_update_delete_and_reload(stores: Table, url: str):
    added = stores.append(store_id=4, city="Leuven", name="=HYPERLINK(1)", lat="50.88", seats="12")
    assert added == {"store_id": 4, "city": "Leuven", "name": "=HYPERLINK(1)", "lat": 50.88, "lon": None,
                     "seats": 12, "open": None}
    assert stores.get(4) == added  # databases hold text as given: no spreadsheet to guard
    assert stores.update("4", city="Löwen", open="yes")["open"] is True
    assert stores.update(4, store_id=5)["store_id"] == 5 and stores.get(4) is None
    assert stores.delete(" 5 ")["city"] == "Löwen"
    assert len(stores) == 3 and list(stores.df["store_id"]) == [1, 2, 3]
    other = Table(url, table="stores", key="store_id")
    other.append(store_id=6, city="Mons")
    with trace():
        assert stores.get(6)["city"] == "Mons" and 6 in list(stores.df["store_id"])
    assert stores.reload() is stores and stores.error is None


def test_bad_writes_name_the_problem_and_change_nothing(stores: Table):
    before = stores.df.copy()
    cases = [
        (lambda: stores.append(store_id=9, colour="red"), r"no column 'colour'.*Its columns are: store_id"),
        (lambda: stores.append(store_id=9, colour=1, size=2), r"no columns 'colour', 'size'"),
        (lambda: stores.append(store_id=9, seats="many"), r"'seats' of stores holds whole numbers, got 'many'"),
        (lambda: stores.append(store_id=9, lat=[1]), r"holds numbers, got \[1\]"),
        (lambda: stores.append(store_id=9, open="perhaps"), r"holds True/False values"),
        (lambda: stores.append(city="No key"), r"needs a store_id"),
        (lambda: stores.append(store_id="2", city="Twice"), r"already has a row with store_id 2.*update"),
        (lambda: stores.update(1, store_id=2), r"already has a row with store_id 2"),
        (lambda: stores.update(1), r"no column to change"),
        (lambda: stores.update(1, seats=2.5), r"holds whole numbers, got 2.5"),
        (lambda: stores.update(8, city="x"), r"No row of stores has store_id 8"),
        (lambda: stores.delete("nope"), r"No row of stores has store_id 'nope'"),
    ]
    for call, message in cases:
        with pytest.raises(TableError, match=re.compile(message, re.S)):
            call()
    with trace():
        pd.testing.assert_frame_equal(stores.df, before)


def test_a_table_without_key_appends_and_explains_lookups(url: str, tmp_path: Path):
    csv = tmp_path / "feedback.csv"
    csv.write_text("text,stars\ngreat,5\n")
    feedback = Table(csv).copy_to(url, progress=False)
    feedback.append(text="meh", stars=3)
    assert len(feedback) == 2 and feedback.find(stars=3)["text"].tolist() == ["meh"]
    with pytest.raises(TableError, match=r"(?s)no key column.*key=\.\.\."):
        feedback.get("great")


def test_replay_sandbox_rolls_database_writes_back(stores: Table):
    with sandbox() as box:
        stores.append(store_id=7, city="Namur")
        stores.update(1, city="Gent")
        stores.delete(2)
    assert box.writes == ["stores: append 7 (rolled back)", "stores: update 1 (rolled back)",
                          "stores: delete 2 (rolled back)"]
    with trace():
        assert stores.get(7) is None and stores.get(1)["city"] == "Ghent" and 2 in stores


def test_copy_to_refuses_an_existing_table_unless_asked(stores: Table, url: str, tmp_path: Path):
    csv = tmp_path / "stores.csv"
    with pytest.raises(TableError, match=r"(?s)already has a table 'stores'.*if_exists='replace'"):
        Table(csv, key="store_id").copy_to(url, progress=False)
    with pytest.raises(TableError, match=r"if_exists must be one of fail, replace, append"):
        Table(csv, key="store_id").copy_to(url, if_exists="overwrite", progress=False)
    stores.append(store_id=4, city="Leuven")
    replaced = Table(csv, key="store_id").copy_to(url, if_exists="replace", progress=False)
    assert len(replaced) == 3
    copied = replaced.copy_to(url, table="stores_copy", progress=False)
    assert copied.name == "stores_copy" and copied.get(3)["city"] == "Brussels"


def test_copy_table_on_the_command_line(tmp_path: Path):
    """One database is enough: the command calls copy_to, which every test here runs on both."""
    url = f"sqlite:///{tmp_path}/shop.db"
    csv = tmp_path / "stores.csv"
    csv.write_text(STORES)
    done = subprocess.run([sys.executable, "-m", "toolkit", "copy-table", str(csv), url, "--key", "store_id"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Copied 3 rows of stores into <Table stores" in done.stdout and "copy to stores" in done.stderr
    assert Table(url, table="stores", key="store_id").get(2)["city"] == "Antwerp"
    again = subprocess.run([sys.executable, "-m", "toolkit", "copy-table", str(csv), url],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "already has a table 'stores'" in again.stderr
    assert "--if-exists 'replace'" in again.stderr and "if_exists=" not in again.stderr  # the CLI's words


# --- errors that carry the fix ------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("bad, message, fix", [
    ("postgress://u@localhost/db", "Unknown database kind 'postgress'.*Did you mean 'postgresql'", "SQLite and PostgreSQL"),
    ("mysql://u@localhost/db", "Unknown database kind 'mysql'", "SQLite and PostgreSQL"),
    ("sqlite:relative.db", "'sqlite:relative.db' is not a database URL", "sqlite:///data/shop.db"),
    ("postgresql:/u:secret@host/db", "not a database URL", "postgresql://user:password@host"),
    ("postgresql://u:secret@host:notaport/db", "not a database URL", "postgresql://user:password@host"),
])
def test_a_wrong_url_says_how_to_write_one(bad: str, message: str, fix: str):
    with pytest.raises(TableDatabaseError, match=message) as info:
        Table(bad, table="leads", key="lead_id")
    assert fix in info.value.hint and "secret" not in str(info.value)


def test_a_refused_connection_names_the_server_and_hides_the_password():
    port = closed_port()
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(TableDatabaseError, match=f"Cannot connect to postgresql://u:\\*\\*\\*@{host}:{port}/shop") as info:
            Table(f"postgresql://u:secret@{host}:{port}/shop", table="leads", key="lead_id")
        assert "secret" not in str(info.value) and "server is running" in info.value.hint
        assert info.value.status == 503


def test_a_missing_driver_says_what_to_install(tmp_path: Path):
    code = ("import sys; sys.modules['psycopg'] = None\n"
            "from toolkit.data import Table\n"
            "try:\n    Table('postgresql://u:secret@127.0.0.1:1/db', table='leads')\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.startswith("TableDatabaseError PostgreSQL needs the psycopg driver")
    assert "pip install 'chatlayer-toolkit[postgres]'" in out and "secret" not in out


def test_a_missing_table_or_key_column_lists_what_there_is(stores: Table, url: str):
    with pytest.raises(TableError, match=r"has no table 'store'\. Did you mean 'stores'\? Its tables: stores\.") as info:
        Table(url, table="store", key="store_id")
    assert "copy_to" in info.value.hint and "copy-table" in info.value.hint
    with pytest.raises(TableError, match=r"stores has no key column 'storeid'\. Did you mean 'store_id'\?.*city"):
        Table(url, table="stores", key="storeid")
    with pytest.raises(TableError, match=r"(?s)Which table of .*table='leads'"):
        Table(url, key="store_id")


def test_a_missing_sqlite_folder_says_to_create_it(tmp_path: Path):
    with pytest.raises(TableDatabaseError, match="folder of the SQLite database .* does not exist") as info:
        Table(f"sqlite:///{tmp_path}/nope/shop.db", table="leads")
    assert "Create the folder" in info.value.hint


def test_a_csv_path_with_table_is_refused(tmp_path: Path):
    csv = tmp_path / "leads.csv"
    csv.write_text("lead_id\n")
    with pytest.raises(TableError, match=r"table='leads' names a table in a database.*CSV file"):
        Table(csv, table="leads")


# --- processes ----------------------------------------------------------------------------------

APPENDER = """
import os, sys, time
from toolkit.data import Table
url, go, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
table = Table(url, table="leads", key="lead_id")
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
refused = 0
for n in range(count):
    try:
        table.append(lead_id=f"{name}-{n}", name=f"Lead {n}", n=n)
    except Exception as exc:  # the same key from several processes: one wins, the others hear why
        assert "already has a row" in str(exc) or "refused" in str(exc), exc
        refused += 1
print(refused)
"""


def seeded_leads(url: str, tmp_path: Path) -> tuple[Table, Path]:
    """A one-row leads table copied to the database, and the file whose creation starts the workers."""
    csv = tmp_path / "leads.csv"
    csv.write_text("lead_id,name,n\nL-0,Seed,0\n")
    return Table(csv, key="lead_id").copy_to(url, progress=False), tmp_path / "go"


@pytest.mark.slow
def test_four_processes_append_30_rows_each_and_keep_120(url: str, tmp_path: Path):
    """The database serialises the writers (its transactions, the version row): 30 rows each show no row
    lost or doubled. The CSV file lock, which the toolkit does itself, gets 4 x 100 in
    test_data_processes.py."""
    leads, go = seeded_leads(url, tmp_path)
    workers = [subprocess.Popen([sys.executable, "-c", APPENDER, url, str(go), f"P{p}", "30"],
                                stderr=subprocess.PIPE) for p in range(4)]
    go.touch()
    seen = []
    while any(w.poll() is None for w in workers):
        with trace():
            seen.append(len(leads.df))  # readable at every moment
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err.decode()
    with trace():
        assert len(leads) == 121 and leads.df["lead_id"].is_unique
        assert set(leads.df["lead_id"]) == {"L-0"} | {f"P{p}-{n}" for p in range(4) for n in range(30)}
    assert seen == sorted(seen)


@pytest.mark.slow
def test_four_processes_appending_the_same_keys_keep_each_once(url: str, tmp_path: Path):
    leads, go = seeded_leads(url, tmp_path)
    workers = [subprocess.Popen([sys.executable, "-c", APPENDER, url, str(go), "same" if p % 2 else "SAME", "20"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in range(4)]
    go.touch()
    refused = 0
    for w in workers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err.decode()
        refused += int(out)
    with trace():
        assert len(leads) == 21 and refused == 3 * 20  # "same-1" and "SAME-1" are one key, forgivingly


def test_another_process_s_writes_are_seen_outside_a_request_and_on_the_next_request(stores: Table, url: str):
    """Outside a request (no trace) get() asks the database at once and df follows the version within
    CHECK_INTERVAL_S; inside one, the first read of the request sees the write."""
    from helpers import wait_until

    app = toolkit.App("stores")

    @app.handler("/city")
    def city(store_id: int):
        row = stores.get(store_id)
        return f"{row['city'] if row else 'unknown'} of {len(stores.df)}"

    def answer(store_id: int) -> str:
        return app.call("/city", {"store_id": store_id})["messages"][0]["config"]["textMessages"][0]["text"]

    assert answer(4) == "unknown of 3" and stores.get(4) is None and len(stores.df) == 3
    first = app.log.last().tables["stores"]
    code = (f"from toolkit.data import Table\nt = Table({url!r}, table='stores', key='store_id')\n"
            "t.append(store_id=4, city='Leuven')\nt.update(1, city='Gent')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert stores.get(4)["city"] == "Leuven" and stores.get(1)["city"] == "Gent"  # at once: one query
    wait_until(lambda: len(stores.df) == 4, timeout=30, what="df to hold the other process's row")
    assert stores.df.set_index("store_id").loc[1, "city"] == "Gent"
    assert answer(4) == "Leuven of 4" and answer(1) == "Gent of 4"
    assert app.log.last().tables["stores"] != first


# --- the same handler code on CSV and on each database (tables_url) ------------------------------


def lead_app(data: Path) -> toolkit.App:
    """The notebook's code, unchanged whatever serves the table."""
    leads = Table(data / "leads.csv", key="lead_id")
    app = toolkit.App("leads")

    @app.handler("/lead")
    def lead(lead_id: str, name: str = ""):
        if name:
            leads.append(lead_id=lead_id, name=name)
        row = leads.get(lead_id)
        return f"{row['name']} ({len(leads.find(name=row['name']))})" if row else "unknown"

    return app


def test_the_same_handler_runs_on_csv_then_on_the_database_of_tables_url(url: str, tmp_path: Path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "leads.csv").write_text("lead_id,name\nL-1,Ann\n")

    def say(app: toolkit.App, **params: str) -> str:
        return app.call("/lead", params)["messages"][0]["config"]["textMessages"][0]["text"]

    on_csv = lead_app(data)
    assert say(on_csv, lead_id="l-1") == "Ann (1)" and say(on_csv, lead_id="L-2", name="Bart") == "Bart (1)"
    monkeypatch.setenv("TOOLKIT_TABLES_URL", url)
    on_db = lead_app(data)  # created from the CSV the first time: 2 rows
    assert say(on_db, lead_id="L-2") == "Bart (1)" and say(on_db, lead_id="L-3", name="Cleo") == "Cleo (1)"
    assert on_db.log.last().tables["leads"].startswith("db:")
    again = lead_app(data)  # not created twice: the database keeps its rows
    assert say(again, lead_id="L-3") == "Cleo (1)"
    assert (data / "leads.csv").read_text() == "lead_id,name\nL-1,Ann\nL-2,Bart\n"  # the CSV is left alone
    monkeypatch.delenv("TOOLKIT_TABLES_URL")
    assert say(lead_app(data), lead_id="L-3") == "unknown"


def test_a_database_going_away_is_an_error_with_the_fix_and_the_server_still_answers(tmp_path: Path):
    db = tmp_path / "shop.db"
    csv = tmp_path / "stores.csv"
    csv.write_text(STORES)
    stores = Table(csv, key="store_id").copy_to(f"sqlite:///{db}", progress=False)
    app = toolkit.App("stores")

    @app.handler("/city")
    def city(store_id: int):
        return stores[store_id]["city"]

    assert app.test_client().post("/city", json={"store_id": 1}).get_json()["messages"]
    import sqlalchemy as sa

    with stores._backend.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE stores"))
    response = app.test_client().post("/city", json={"store_id": 1})
    error = response.get_json()["error"]
    assert response.status_code == 503 and error["type"] == "database_unavailable"  # the data is not there:
    assert "no such table: stores" in error["message"] and "reload" in error["hint"]  # not the request's fault
    assert app.test_client().get("/_toolkit/health").status_code == 200
    assert len(app.log.to_frame()) == 2
    Table(csv, key="store_id").copy_to(f"sqlite:///{db}", progress=False)  # the table back:
    response = app.test_client().post("/city", json={"store_id": 1})  # the next request asks again
    assert response.status_code == 200 and response.get_json()["messages"]


# --- a write and its version commit together -----------------------------------------------------

REFUSE_BUMP = {
    "sqlite": ["CREATE TRIGGER refuse_bump BEFORE UPDATE ON toolkit_versions "
               "BEGIN SELECT RAISE(ABORT, 'version counter refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse_bump() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'version counter refused'; END $$",
                   "CREATE TRIGGER refuse_bump BEFORE UPDATE ON toolkit_versions "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_bump()"],
}


def seen_by_another_connection(url: str) -> tuple[int, int]:
    """(version of stores, rows of stores) read in one statement by a connection of its own."""
    import sqlalchemy as sa

    from toolkit.data.sqlconnect import parse

    engine = sa.create_engine(parse(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            version, rows = conn.exec_driver_sql(
                "SELECT (SELECT version FROM toolkit_versions WHERE name = 'stores'), "
                "(SELECT count(*) FROM stores)").one()
            return int(version), int(rows)
    finally:
        engine.dispose()


def test_an_append_whose_version_bump_fails_writes_nothing_and_says_so(stores: Table, url: str):
    import sqlalchemy as sa

    before = seen_by_another_connection(url)
    with stores._backend.engine.begin() as conn:
        for statement in REFUSE_BUMP[conn.dialect.name]:
            conn.exec_driver_sql(statement)
    with pytest.raises(TableError, match=r"(?s)append on stores|refused the append") as info:
        stores.append(store_id=4, city="Leuven")
    assert seen_by_another_connection(url) == before  # the row was rolled back with the bump
    assert "Nothing was written" in info.value.message and "version counter refused" in info.value.message
    with stores._backend.engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER refuse_bump" + (" ON toolkit_versions" if "postgresql" in url else "")))
    with trace():
        assert stores.get(4) is None
    assert stores.append(store_id=4, city="Leuven")["city"] == "Leuven"  # and works again once it can
    assert seen_by_another_connection(url) == (before[0] + 1, before[1] + 1)


@pytest.fixture
def postgres_url(tmp_path: Path):
    yield from database("postgresql", tmp_path)


def test_an_append_and_its_version_are_seen_together_by_another_connection(postgres_url: str, tmp_path: Path):
    """While the version row is locked, a PostgreSQL append waits with its row uncommitted: another
    connection never sees the new row under the old version (nor the other way round). (SQLite bumps
    the version first, so there a writer waits before writing anything.)"""
    import threading

    import sqlalchemy as sa

    url = postgres_url
    csv = tmp_path / "stores.csv"
    csv.write_text(STORES)
    stores = Table(csv, key="store_id").copy_to(url, progress=False)
    before = seen_by_another_connection(url)
    engine = stores._backend.engine
    with engine.connect() as locker:
        locker.begin()
        locker.exec_driver_sql("SELECT version FROM toolkit_versions WHERE name = 'stores' FOR UPDATE")
        done: list[object] = []
        writer = threading.Thread(target=lambda: done.append(stores.append(store_id=4, city="Leuven")))
        writer.start()
        from helpers import wait_until

        with engine.connect() as watcher:
            def waiting() -> int:
                watcher.rollback()  # a fresh snapshot of pg_stat_activity each time
                return int(watcher.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar_one())

            wait_until(waiting, timeout=60, what="the append to wait for the version row")
        assert seen_by_another_connection(url) == before and not done  # neither the row nor the version
        locker.rollback()
    writer.join(60)
    assert done and seen_by_another_connection(url) == (before[0] + 1, before[1] + 1)


# --- a value the database cannot store is the request's fault ------------------------------------


def test_a_value_no_database_can_store_answers_400_naming_the_column_over_http(stores: Table):
    from wire import request

    app = toolkit.App("stores")

    @app.handler("/add")
    def add(store_id: int, city: str = "", seats: int = 0):
        return stores.append(store_id=store_id, city=city, seats=seats)["city"]

    before = stores._backend.version
    with app.serve(port=0) as server:
        for body, column, fix in [({"store_id": 4, "city": "Gh\x00ent"}, "city", "replace('\\x00', '')"),
                                  ({"store_id": 4, "city": "Gh\ud800ent"}, "city", "not valid Unicode"),
                                  ({"store_id": 4, "seats": 2**70}, "seats", "beyond 64 bits")]:
            status, answer = request(server, "POST", "/add", body)
            assert status == 400, answer  # the request's fault, not a 503 "database unavailable"
            error = answer["error"]
            assert error["type"] == "table_error"
            assert f"Column {column!r} of stores" in error["message"] and fix in error["message"] + error["hint"]
        assert stores.error is None and "unreachable" not in repr(stores)  # the table stays reachable
        assert stores._backend.version == before and len(stores) == 3  # nothing was written
        status, answer = request(server, "POST", "/add", {"store_id": 4, "city": "Leuven"})
        assert status == 200 and answer["messages"][0]["config"]["textMessages"][0]["text"] == "Leuven"
        assert request(server, "GET", "/_toolkit/health")[0] == 200


# --- a database going away after the table was opened --------------------------------------------


def take_away(url: str) -> None:
    """Make the database unreachable: a SQLite file removed, a PostgreSQL database refusing
    connections (its open ones ended)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        Path(make_url(url).database or "").unlink()
        return
    name = make_url(url).database
    admin = sa.create_engine(make_url(POSTGRES).set(drivername="postgresql+psycopg"),
                             isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    admin.dispose()


def test_repr_never_raises_while_the_database_is_down(stores: Table, url: str):
    take_away(url)
    with trace():
        shown = repr(stores)
    assert re.fullmatch(r"<Table stores \((sqlite|postgresql)\): (\?|3) rows, key store_id.*>", shown), shown
    if url.startswith("postgresql"):
        assert shown.endswith("? rows, key store_id, database unreachable: see .error>")
        assert "not currently accepting connections" in stores.error


def test_an_append_to_a_deleted_sqlite_file_is_refused_naming_the_file_and_the_fix(tmp_path: Path):
    csv = tmp_path / "stores.csv"
    csv.write_text(STORES)
    db = tmp_path / "shop.db"
    stores = Table(csv, key="store_id").copy_to(f"sqlite:///{db}", progress=False)
    stores.append(store_id=4, city="Leuven")  # a pooled connection now holds the file open
    db.unlink()
    for _ in range(2):  # a pooled connection (still on the deleted file), then a new one
        with pytest.raises(TableDatabaseError, match=f"The SQLite file {re.escape(str(db))} of table stores "
                                                     "was deleted") as info:
            stores.append(store_id=5, city="Mons")
        assert "Restore the file" in info.value.hint and "copy_to" in info.value.hint
    assert not db.exists()  # nothing created in its place
    with trace():
        assert stores.get(1)["city"] == "Ghent" and "was deleted" in (stores.error or "")  # flagged stale
        assert repr(stores).endswith("database unreachable: see .error>")
    Table(csv, key="store_id").copy_to(f"sqlite:///{db}", progress=False)  # the fix: the file anew
    stores.reload()
    assert stores.append(store_id=5, city="Mons")["city"] == "Mons" and stores.error is None
    assert Table(f"sqlite:///{db}", table="stores", key="store_id").get(5)["city"] == "Mons"


# --- passwords never shown ------------------------------------------------------------------------

SECRET = "Pa@ss-w0rd-7x"  # with a raw '@'


def with_passwords(url: str) -> list[str]:
    """``url`` with SECRET in each spelling: the user info (a raw '@' in it), ``?password=``, and
    a libpq keyword string."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    at = f"{parsed.host}:{parsed.port}/{parsed.database}"
    return [f"postgresql://{parsed.username}:{SECRET}@{at}", f"postgresql://{parsed.username}@{at}?password={SECRET}",
            f"postgresql://{parsed.username}@{at}?sslmode=prefer&password={SECRET}"]


def test_a_password_shows_in_no_table_error_repr_or_warning(postgres_url: str, tmp_path: Path, caplog):
    import warnings

    csv = tmp_path / "stores.csv"
    csv.write_text(STORES)
    Table(csv, key="store_id").copy_to(postgres_url, progress=False)
    shown: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for url in with_passwords(postgres_url):  # a server that trusts loopback ignores the password
            stores = Table(url, table="stores", key="store_id")
            shown += [repr(stores)]
            for call, args in ((Table, (url,)), (stores.append, ())):
                with pytest.raises(TableError) as info:
                    call(*args, table="store") if args else call(store_id=1)
                shown += [str(info.value), repr(info.value), info.value.hint]
        closed = f"127.0.0.1:{closed_port()}"
        for url in with_passwords(postgres_url) + [f"host=127.0.0.1 password={SECRET}"]:
            url = re.sub(r"127\.0\.0\.1:\d+", closed, url)
            with pytest.raises(TableError) as info:
                Table(url, table="stores")
            shown += [str(info.value), repr(info.value)]
            with pytest.raises(TableError) as info:
                Table(csv, key="store_id").copy_to(url)
            shown += [str(info.value), repr(info.value)]
        take_away(postgres_url)
        with pytest.raises(TableDatabaseError) as info:
            stores.append(store_id=9, city="Mons")
        with trace():
            shown += [str(info.value), repr(stores), stores.error or ""]
    shown += [str(w.message) for w in caught] + [caplog.text]
    assert any("Cannot connect to postgresql://" in text for text in shown)  # the URLs were in the messages
    assert any("password=***" in text for text in shown) and any(":***@" in text for text in shown)
    leaks = [text for text in shown if SECRET in text or SECRET.split("@")[1] in text or "Pa@ss" in text]
    assert not leaks, leaks
