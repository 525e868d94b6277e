"""Replays never touch your data: table writes inside ``sandbox()`` go to a throwaway copy (CSV) or
are rolled back (database), and the sandbox lists what it kept away."""

from __future__ import annotations

from pathlib import Path

import pytest
from databases import BACKENDS, database

import toolkit
from toolkit.data import Table
from toolkit.log import sandbox, trace

LEADS = "lead_id,name\nL-1,Ann\n"


def test_csv_writes_in_a_sandbox_go_to_a_copy_and_are_read_back_from_it(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(LEADS)
    leads = Table(path, key="lead_id")
    with sandbox() as box:
        with trace():
            assert leads.get("L-1")["name"] == "Ann"  # before any write: the real file
            leads.append(lead_id="L-2", name="Bart")
            assert leads.get("L-2")["name"] == "Bart" and len(leads) == 2  # its own write
            leads.update("L-1", name="Anna")
            leads.delete("L-2")
            assert leads.get("L-1")["name"] == "Anna" and len(leads) == 1
        copy = Path(box.copies[str(path.resolve())])
        assert copy.read_text() == "lead_id,name\nL-1,Anna\n" and copy.parent == Path(box.folder)
    assert box.writes == ["leads: append 'L-2' (written to a throwaway copy)",
                          "leads: update 'L-1' (written to a throwaway copy)",
                          "leads: delete 'L-2' (written to a throwaway copy)"]
    assert path.read_text() == LEADS
    with trace():
        assert leads.get("L-1")["name"] == "Ann" and leads.get("L-2") is None and len(leads) == 1
    leads.append(lead_id="L-3", name="Cleo")  # outside: real again
    assert path.read_text() == LEADS + "L-3,Cleo\n"


def test_two_sandboxes_do_not_see_each_other(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(LEADS)
    leads = Table(path, key="lead_id")
    with sandbox() as first:
        leads.append(lead_id="L-2", name="Bart")
    with sandbox() as second:
        leads.append(lead_id="L-2", name="Bea")  # no duplicate key: the first copy is gone
        assert leads.get("L-2")["name"] == "Bea"
    assert len(first.writes) == len(second.writes) == 1 and path.read_text() == LEADS


def test_a_replayed_handler_appends_to_the_copy_and_the_server_still_answers(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(LEADS)
    leads = Table(path, key="lead_id")
    app = toolkit.App("leads")

    @app.handler("/lead")
    def lead(lead_id: str, name: str):
        leads.append(lead_id=lead_id, name=name)
        return f"{len(leads)} leads"

    app.call("/lead", {"lead_id": "L-2", "name": "Bart"})
    with sandbox() as box:
        assert app.call("/lead", {"lead_id": "L-3", "name": "Cleo"})["messages"]
    assert box.writes == ["leads: append 'L-3' (written to a throwaway copy)"]
    assert path.read_text() == LEADS + "L-2,Bart\n"
    assert app.test_client().get("/_toolkit/health").status_code == 200
    assert len(app.log.to_frame()) == 2


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path: Path):
    yield from database(request.param, tmp_path)


def test_database_writes_in_a_sandbox_are_rolled_back(url: str, tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(LEADS)
    leads = Table(path, key="lead_id").copy_to(url, progress=False)
    with sandbox() as box:
        assert leads.append(lead_id="L-2", name="Bart")["name"] == "Bart"
        assert leads.update("L-1", name="Anna")["name"] == "Anna"
        assert leads.delete("L-1")["name"] == "Ann"
    assert box.writes == ["leads: append 'L-2' (rolled back)", "leads: update 'L-1' (rolled back)",
                          "leads: delete 'L-1' (rolled back)"]
    with trace():
        assert leads.get("L-1")["name"] == "Ann" and leads.get("L-2") is None and len(leads) == 1
