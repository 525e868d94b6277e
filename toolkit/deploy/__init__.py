"""The deploy layer: ``toolkit serve`` (waitress, or gunicorn for several workers), ``toolkit
export`` (a notebook as a plain module), and running a notebook headless to find its app.
"""
