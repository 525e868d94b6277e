"""Table is one class for every source (a facade over a CSV or a database backend), and what the
facade does once for every backend: the forgiving lookup, letter case included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from databases import BACKENDS, database

from toolkit.data import Table
from toolkit.data.csvbackend import CsvBackend
from toolkit.data.sqlbackend import SqlBackend
from toolkit.errors import KeyNotFound, TableError

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"
DRINKS = "drink,price\nLatte,3.2\nMocha,3.5\nTEA,2.0\ntea,2.1\n"


@pytest.fixture(params=["csv", *BACKENDS])
def drinks(request, tmp_path: Path):
    """The same table as a CSV file, a SQLite table and a PostgreSQL table."""
    csv = tmp_path / "drinks.csv"
    csv.write_text(DRINKS)
    if request.param == "csv":
        yield Table(csv, key="drink")
        return
    for url in database(request.param, tmp_path):
        yield Table(csv, key="drink").copy_to(url, progress=False)


def test_one_class_for_every_source(drinks: Table):
    assert type(drinks) is Table
    assert isinstance(drinks._backend, CsvBackend | SqlBackend)


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_csv_and_a_database_table_are_the_same_class(kind: str, tmp_path: Path):
    csv = tmp_path / "drinks.csv"
    csv.write_text(DRINKS)
    for url in database(kind, tmp_path):
        on_file = Table(csv, key="drink")
        in_database = on_file.copy_to(url, progress=False)
        again = Table(url, table="drinks", key="drink")
        assert type(on_file) is type(in_database) is type(again) is Table
        assert type(on_file._backend) is CsvBackend and type(again._backend) is SqlBackend


def test_no_class_in_the_package_subclasses_a_table_or_a_backend():
    """The backends are chosen by composition: no class extends Table, a backend, or the interface."""
    forbidden = {"Table", "Backend", "CsvBackend", "SqlBackend"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, ast.Name | ast.Attribute)}
                if bases & forbidden:
                    found.append(f"{path.relative_to(PACKAGE)}: class {node.name}")
                if node.name == "Table" and any(isinstance(f, ast.FunctionDef) and f.name == "__new__"
                                                for f in node.body):
                    found.append(f"{path.relative_to(PACKAGE)}: Table.__new__ picks a class")
    assert not found


def test_get_forgives_letter_case_when_one_key_matches(drinks: Table):
    assert drinks.get("latte")["price"] == 3.2 and drinks["LATTE"]["drink"] == "Latte"
    assert " lAtTe " in drinks and drinks.get("mocha")["drink"] == "Mocha"
    assert drinks.get("tea")["price"] == 2.1 and drinks.get("TEA")["price"] == 2.0  # exact wins


def test_a_letter_case_shared_by_two_keys_is_a_miss_with_suggestions(drinks: Table):
    assert drinks.get("Tea") is None and "Tea" not in drinks
    with pytest.raises(KeyNotFound) as caught:
        drinks["Tea"]
    assert str(caught.value).startswith("No row of drinks has drink 'Tea'. Did you mean ")
    assert set(caught.value.suggestions) <= {"TEA", "tea"} and caught.value.suggestions


def test_writes_find_the_row_whatever_the_letter_case(drinks: Table):
    assert drinks.update("mocha", price=3.6)["drink"] == "Mocha"
    assert drinks.get("MOCHA")["price"] == 3.6
    assert drinks.delete("latte")["drink"] == "Latte" and drinks.get("Latte") is None
    with pytest.raises(KeyNotFound):
        drinks.delete("Tea")  # two keys differ from it only in case: which one is not guessed
    assert len(drinks) == 3


def test_letter_case_is_forgiven_through_appends_updates_and_deletes(tmp_path: Path, monkeypatch):
    """A CSV table keeps its case-folded keys in step with its own writes (no re-read of the file)."""
    from toolkit.data import state

    monkeypatch.setattr(state, "MAX_ADDED", 2)  # added rows are joined to the frame on the third append
    csv = tmp_path / "drinks.csv"
    csv.write_text(DRINKS)
    drinks = Table(csv, key="drink")
    assert drinks.get("latte")["price"] == 3.2  # the case-folded keys are worked out here
    for name in ("Chai", "Flat White", "Cortado"):
        drinks.append(drink=name, price=3)
        assert drinks.get(name.upper())["drink"] == name
    assert drinks.update("flat white", drink="Flat-White")["drink"] == "Flat-White"
    assert drinks.get("FLAT-WHITE")["drink"] == "Flat-White" and drinks.get("flat white") is None
    assert drinks.delete("CHAI")["drink"] == "Chai"
    assert drinks.get("chai") is None and drinks.get("cortado")["drink"] == "Cortado"
    with pytest.raises(TableError, match="already has a row with drink 'Tea'"):
        drinks.append(drink="Tea")  # TEA, in upper case (a new key is not checked case-folded)
    assert list(Table(csv, key="drink").df["drink"]) == list(drinks.df["drink"]) == [
        "Latte", "Mocha", "TEA", "tea", "Flat-White", "Cortado"]
