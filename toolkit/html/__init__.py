"""HTML for people: the log view's rows, the detail pane, transcripts, reports and parity tables, all
rendered from the Jinja2 templates in ``templates/`` by one environment (:mod:`.templates`); links and
images pass one URL filter (:mod:`.urls`); icons are labelled glyphs every font has (:mod:`.icons`).
"""
