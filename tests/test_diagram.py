"""A Flow draws itself as a Mermaid flowchart (JupyterLab renders it from Markdown); coverage shades
what the conversations exercised."""

from __future__ import annotations

import toolkit as tk
from toolkit.emulator import Coverage, mermaid


def small_flow() -> tk.Flow:
    flow = tk.Flow("shop", fallback="sorry", on_error="oops")
    flow.message("welcome", tk.quick_replies("What now?", tk.postback("Track", "ask_order"),
                                             tk.postback('Say "hi"', "route")))
    flow.input("ask_order", "Which order?", "order.id", validate="text", next="lookup")
    flow.api("lookup", tk.ApiStep("POST", "/order-status", body=[
        ("order_id", "variable", "order.id"), ("found", "dialogstate", "shipped")]), next="welcome")
    flow.message("shipped", "Thanks!")
    flow.goto("route", [("member.level == gold", "gold"), (lambda s: True, "count")], default="welcome")
    flow.message("gold", "Gold <member>!")
    flow.set("count", {"visits": "{visits|increment}"}, next="welcome")
    flow.message("oops", "Something went wrong.")
    flow.message("sorry", "Sorry?")
    flow.intent("track", keywords=["order"], go="ask_order")
    return flow


MERMAID = '''flowchart TD
    b0["welcome"]
    b1[/"ask_order<br/>input order.id"/]
    b2[["lookup<br/>POST /order-status"]]
    b3["shipped"]
    b4{"route"}
    b5["gold"]
    b6(["count"])
    b7["oops"]
    b8["sorry"]
    start(("start"))
    says(("user says"))
    start --> b0
    b0 -->|"Track"| b1
    b0 -->|"Say #quot;hi#quot;"| b4
    b1 --> b2
    b2 -->|"reply"| b3
    b2 --> b0
    b2 -.->|"error"| b7
    b4 -->|"member.level == gold"| b5
    b4 -->|"#lt;lambda#gt;"| b6
    b4 -->|"else"| b0
    b6 --> b0
    says -->|"track"| b1
    says -.->|"not understood"| b8'''


def test_the_mermaid_text_of_a_known_flow():
    flow = small_flow()
    assert mermaid(flow) == MERMAID


def test_a_flow_shows_as_a_mermaid_block_in_jupyter():
    flow = small_flow()
    markdown = flow._repr_markdown_()
    assert markdown.startswith("```mermaid\nflowchart TD\n") and markdown.endswith("\n```")
    assert repr(flow) == "<Flow 'shop': 9 blocks, 1 intent, start 'welcome'>"  # text/plain unchanged
    diagram = flow.diagram()
    assert repr(diagram) == "<Diagram of flow 'shop': 9 blocks>"
    bundle = diagram._repr_mimebundle_()
    assert bundle == {"text/markdown": markdown, "text/plain": "<Diagram of flow 'shop': 9 blocks>"}
    assert str(diagram) == diagram.source == mermaid(flow)


def test_coverage_shades_blocks_and_the_branches_taken():
    flow = small_flow()
    app = tk.App("diagram-shop")

    @app.handler("/order-status")
    def order_status(order_id: str, found: str):
        return tk.Reply(messages=["Shipped."], next_dialogstate=found)

    chat = tk.Conversation(flow, backend=app)
    chat.click("Track")
    chat.say("A-1")
    coverage = Coverage(flow).add(chat)
    text = coverage.diagram().source
    assert text.startswith(mermaid(flow) + "\n")  # the same chart, then the shading
    assert text.splitlines()[-5:] == [
        "    classDef covered fill:#dcfce7,stroke:#15803d,color:#14532d",
        "    classDef missed fill:#fee2e2,stroke:#b91c1c,color:#7f1d1d",
        "    class b0,b1,b2,b3 covered",
        "    class b4,b5,b6,b7,b8 missed",
        "    linkStyle 1,4 stroke:#15803d,stroke-width:3px",  # the Track button, the reply to shipped
    ]
    assert repr(flow.diagram(coverage)) == "<Diagram of flow 'shop': 9 blocks, coverage shaded>"


def test_links_to_unknown_blocks_are_left_out():
    flow = tk.Flow("loose")
    flow.message("a", "Hi", next="nowhere")
    assert mermaid(flow) == 'flowchart TD\n    b0["a"]\n    start(("start"))\n    start --> b0'
