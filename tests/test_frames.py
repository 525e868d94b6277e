"""carousel_from_frame: DataFrame rows (or dicts) to cards; columns, templates, functions, NaN empty,
and errors that list the columns (issue 17 point 2)."""

import json

import pandas as pd
import pytest

import toolkit as tk


def test_carousel_from_frame_columns_templates_buttons_and_limit():
    df = pd.DataFrame({"name": [f"P{i}" for i in range(12)], "price": [i + 0.5 for i in range(12)],
                       "img": [f"https://x/{i}.png" for i in range(12)]})
    msg = tk.carousel_from_frame(df, title="name", subtitle="{price:.2f} EUR", image_url="img",
                                 button=lambda row: tk.postback("Buy", "buy", {"sku": row["name"]}))
    cards = msg["config"]["elements"]
    assert len(cards) == 10
    assert cards[1] == {"title": "P1", "subTitle": "1.50 EUR", "imageUrl": "https://x/1.png",
                        "buttons": [{"type": "postback", "title": "Buy", "payload": {
                            "nextDialogstateId": "buy", "params": [{"key": "sku", "value": "P1"}]}}]}
    tk.validate({"messages": [msg]})


FRAME = pd.DataFrame({"name": ["Bike A", "Bike B"], "price": [499.0, float("nan")],
                      "img": ["https://x/a.png", None], "note": ["new", float("nan")]})


def test_frame_nan_renders_as_empty_in_columns_and_templates():
    cards = tk.carousel_from_frame(FRAME, title="name", subtitle="{price:.2f} EUR {note}",
                                   image_url="img")["config"]["elements"]
    assert cards[0] == {"title": "Bike A", "subTitle": "499.00 EUR new", "imageUrl": "https://x/a.png",
                        "buttons": []}
    assert cards[1] == {"title": "Bike B", "subTitle": " EUR ", "buttons": []}
    assert "nan" not in json.dumps(cards).lower()
    only_note = tk.carousel_from_frame(FRAME, title="name", subtitle="note")["config"]["elements"]
    assert "subTitle" not in only_note[1]


@pytest.mark.parametrize("kwargs,names", [
    (dict(title="name", image_url="image"), ["image_url='image' is not a column", "name, price, img, note"]),
    (dict(title="title"), ["title='title' is not a column", "columns: name, price, img, note"]),
    (dict(title="name", url="https://shop/bikes"), ["url='https://shop/bikes' is not a column"]),
    (dict(title="name", subtitle="{cost} EUR"), ["template '{cost} EUR' names column 'cost'",
                                                 "columns: name, price, img, note"]),
    (dict(title="{name} {colour}"), ["names column 'colour'"]),
    (dict(title="name", subtitle="{name:.2f}"), ["subtitle template '{name:.2f}' cannot format"]),
])
def test_frame_columns_that_do_not_exist_are_errors_listing_the_columns(kwargs, names):
    with pytest.raises(tk.BuilderError) as info:
        tk.carousel_from_frame(FRAME, **kwargs)
    assert all(name in str(info.value) for name in names), str(info.value)
    assert "KeyError" not in str(info.value)


def test_frame_fixed_text_is_a_function_and_rows_may_be_dicts_or_empty():
    cards = tk.carousel_from_frame(FRAME, title="name", url=lambda row: "https://shop/bikes")
    assert [c["webUrl"] for c in cards["config"]["elements"]] == ["https://shop/bikes"] * 2
    rows = [{"name": "A", "img": "https://x/a.png"}, {"name": "B"}]
    dicts = tk.carousel_from_frame(rows, title="name", image_url="img", subtitle="{img}")["config"]["elements"]
    assert dicts[1] == {"title": "B", "subTitle": "", "buttons": []}
    assert tk.carousel_from_frame(FRAME.iloc[0:0], title="name")["config"]["elements"] == []
    with pytest.raises(tk.BuilderError, match="is not a column"):
        tk.carousel_from_frame(FRAME.iloc[0:0], title="nom")
    with pytest.raises(tk.BuilderError, match="row 1 is a str"):
        tk.carousel_from_frame(["A"], title="name")
