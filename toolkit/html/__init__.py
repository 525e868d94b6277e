"""HTML for people: the log view's rows, the detail pane, transcripts, reports and parity tables.
"""
