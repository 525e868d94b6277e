"""A user's script that mypy must reject, each error on the line marked ``# E:`` (tests/test_type_check.py).

Never run. Each line is a slip that the public types catch before the code runs.
"""

from __future__ import annotations

import toolkit

app = toolkit.App("shop")
deadline = app.settings.dedline_s  # E: "Settings" has no attribute "dedline_s"
toolkit.Table(42, key="order_id")  # E: Argument 1 to "Table" has incompatible type "int"
toolkit.Tabel("data/orders.csv")  # E: Module has no attribute "Tabel"
app.flask.add_url_route("/x", "x", print)  # E: "Flask" has no attribute "add_url_route"
app.test_client().gett("/orders")  # E: "FlaskClient" has no attribute "gett"
app.serve(port="5000")  # E: Argument "port" to "serve" of "App" has incompatible type "str"
app.handle("POST", "/orders")  # E: Too many positional arguments for "handle" of "App"
