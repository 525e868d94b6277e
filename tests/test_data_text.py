"""CSV text that must survive: NA-looking words, formula injection, a file cut off half-way."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.data import Table
from toolkit.data.values import guard, unguard
from toolkit.errors import TableError
from toolkit.log import trace


def write(path: Path, text: str) -> Path:
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_bytes(text.encode())
    stamp = max(path.stat().st_mtime_ns, old + 1_000_000)
    os.utime(path, ns=(stamp, stamp))
    return path


def served(table: Table) -> toolkit.App:
    """An app whose handler reads and writes ``table``; the checks after each case use it."""
    app = toolkit.App("text")

    @app.handler("/note")
    def note(lead_id: str, text: str = ""):
        if text:
            table.append(lead_id=lead_id, note=text)
        row = table.get(lead_id)
        return "none" if row is None else f"[{row['note']}]"

    return app


def still_fine(app: toolkit.App) -> None:
    """The server still answers and the log still exports."""
    assert app.test_client().get("/_toolkit/health").status_code == 200
    assert len(app.log.to_frame()) == len(app.log)


NA_WORDS = ["NULL", "N/A", "None", "NA", "nan", "NaN", "null", "#N/A", "n/a", "-nan"]


@pytest.mark.parametrize("word", NA_WORDS)
def test_na_looking_words_round_trip_as_text(tmp_path: Path, word: str):
    table = Table(write(tmp_path / "leads.csv", "lead_id,note\n"), key="lead_id")
    app = served(table)
    assert app.call("/note", {"lead_id": "L-1", "text": word})["messages"][0]["config"]["textMessages"][0]["text"] \
        == f"[{word}]"
    again = Table(tmp_path / "leads.csv", key="lead_id")
    assert again.get("L-1")["note"] == word and again.df["note"].tolist() == [word]
    still_fine(app)


def test_only_an_empty_cell_is_missing_and_pandas_na_parsing_is_an_option(tmp_path: Path):
    path = write(tmp_path / "t.csv", "id,note,n\n1,NULL,1\n2,,\n3,N/A,NA\n4,None,nan\n")
    table = Table(path, key="id")
    assert [table.get(i)["note"] for i in (1, 2, 3, 4)] == ["NULL", None, "N/A", "None"]
    assert table.get(2)["n"] is None and table.get(3)["n"] == "NA"  # a text column now: NA is text
    pandas_way = Table(path, key="id", keep_default_na=True)
    assert [pandas_way.get(i)["note"] for i in (1, 2, 3, 4)] == [None, None, None, None]
    assert pandas_way.df["n"].isna().sum() == 3
    custom = Table(path, key="id", na_values=["NULL"])  # any of pandas' NA options switches it on
    assert custom.get(1)["note"] is None


DANGEROUS = ["=1+1", "=HYPERLINK(\"http://evil.example\",\"click\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
             "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "-x", "+A1", "=", "'=already quoted",
             "''=twice", "'+32 470 12 34 56"]
ORDINARY = ["+32 470 12 34 56", "-5", "-3,5", "+1 (555) 010-9999", "-", "+", "hello", "a=b", "e-mail",
            "'quoted'", "'", "2025-03-16", " =spaced"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_is_written_with_a_leading_quote_and_reads_back_as_typed(tmp_path: Path, value: str):
    table = Table(write(tmp_path / "leads.csv", "lead_id,note\n"), key="lead_id")
    app = served(table)
    table.append(lead_id="L-1", note=value)
    cell = pd.read_csv(tmp_path / "leads.csv", dtype=str, keep_default_na=False)["note"][0]
    assert cell == "'" + value  # what Excel opens: text, never a formula
    assert cell[0] == "'" and guard(value) == cell and unguard(cell) == value
    assert Table(tmp_path / "leads.csv", key="lead_id").get("L-1")["note"] == value
    table.update("L-1", note=value + "!")
    assert pd.read_csv(tmp_path / "leads.csv", dtype=str, keep_default_na=False)["note"][0] == "'" + value + "!"
    assert table.get("L-1")["note"] == value + "!"
    still_fine(app)


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_values_are_written_as_given(tmp_path: Path, value: str):
    table = Table(write(tmp_path / "leads.csv", "lead_id,note\nL-0,text\n"), key="lead_id")
    table.append(lead_id="L-1", note=value)
    cell = pd.read_csv(tmp_path / "leads.csv", dtype=str, keep_default_na=False)["note"][1]
    assert cell == value
    assert Table(tmp_path / "leads.csv", key="lead_id").get("L-1")["note"] == value


def test_numbers_are_never_quoted_and_the_guard_can_be_turned_off(tmp_path: Path):
    path = write(tmp_path / "t.csv", "id,amount,note\n1,3,x\n")
    table = Table(path, key="id")
    table.append(id=2, amount=-5, note="-5")
    table.append(id=3, amount="-7", note="=1+1")
    assert path.read_text() == "id,amount,note\n1,3,x\n2,-5,-5\n3,-7,'=1+1\n"
    raw = Table(path, key="id", guard_formulas=False)
    assert raw.get(3)["note"] == "'=1+1"  # read as it is in the file
    raw.append(id=4, note="=2+2")
    assert path.read_text().endswith("4,,=2+2\n")


CUT = {
    "fewer fields": ("lead_id,name,note\nL-1,Ann,ok\nL-2,Ba", 3, "2 of the 3 fields"),
    "one field": ("lead_id,name,note\nL-1,Ann,ok\nL-", 3, "1 of the 3 fields"),
    "quote never closed": ('lead_id,name,note\nL-1,Ann,ok\nL-2,"Bart, the', 3, "never closed"),
    "quote in last field": ('lead_id,name,note\nL-1,Ann,ok\nL-2,Bart,"half', 3, "never closed"),
}


@pytest.mark.parametrize("case", CUT)
def test_a_file_cut_off_mid_row_is_not_a_good_version(tmp_path: Path, case: str):
    text, line, found = CUT[case]
    path = write(tmp_path / "leads.csv", "lead_id,name,note\nL-1,Ann,ok\n")
    table = Table(path, key="lead_id")
    app = served(table)
    good = table.version
    write(path, text)
    reply = app.call("/note", {"lead_id": "L-1"})
    assert reply["messages"][0]["config"]["textMessages"][0]["text"] == "[ok]"  # the last good version
    assert app.log.last().tables == {"leads": good} and "stale:leads" in app.log.last().flags
    assert found in table.error and f"line {line}" in table.error and "Fix:" in table.error
    assert "last good version" in table.error and len(table) == 1
    with pytest.raises(TableError, match=found):
        Table(path, key="lead_id")
    still_fine(app)
    write(path, text + "x,y\n" if case == "one field" else text.replace(",Ba", ",Bart,ok") + "\n")
    if case in ("fewer fields", "one field"):
        with trace():
            assert len(table) == 2 and table.error is None


@pytest.mark.parametrize("text", [
    "lead_id,name,note\nL-1,Ann,ok",  # every field, no line end: fine (editors do this)
    "lead_id,name,note\nL-1,Ann,",  # an empty last field is still a field
    'lead_id,name,note\nL-1,Ann,"two\nlines"',  # a multi-line value at the very end
    "lead_id,name,note",  # the header alone
])
def test_a_last_row_without_line_end_but_complete_is_fine(tmp_path: Path, text: str):
    table = Table(write(tmp_path / "leads.csv", text), key="lead_id")
    assert table.error is None and len(table) == text.count("L-1")
