import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.jsonable import to_jsonable


def test_numpy_and_pandas_values_become_json():
    value = {
        "i": np.int64(3), "f": np.float32(1.5), "b": np.bool_(True), "nan": float("nan"),
        "npnan": np.float64("nan"), "nat": pd.NaT, "na": pd.NA, "ts": pd.Timestamp("2024-06-02 10:00"),
        "date": dt.date(2024, 6, 2), "arr": np.array([1, 2]), "series": pd.Series([1.0, None]),
        "dec": decimal.Decimal("2.50"), "tuple": (1, 2), "set": {"b", "a"},
    }
    assert to_jsonable(value) == {
        "i": 3, "f": 1.5, "b": True, "nan": None, "npnan": None, "nat": None, "na": None,
        "ts": "2024-06-02T10:00:00", "date": "2024-06-02", "arr": [1, 2], "series": [1.0, None],
        "dec": 2.5, "tuple": [1, 2], "set": ["a", "b"],
    }
    assert type(to_jsonable(np.int64(3))) is int


def test_handler_returning_dataframe_values_serialises():
    df = pd.DataFrame({"id": ["A-1"], "qty": [np.int64(2)], "price": [np.nan],
                       "when": [pd.Timestamp("2024-01-01")]})
    app = tk.App("np")
    app.add_handler("/row", lambda: tk.Reply(session={"order": df.iloc[0].to_dict()}))
    assert app.call("/row")["session"]["data"] == {
        "id": "A-1", "qty": 2, "price": None, "when": "2024-01-01T00:00:00"}


def test_unconvertible_value_names_where_it_is():
    with pytest.raises(tk.ReplyError) as info:
        to_jsonable({"data": {"obj": object()}}, "reply")
    assert "reply.data.obj holds an object" in str(info.value)
