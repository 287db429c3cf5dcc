"""Pure spatial algorithms over GeoDataFrames and arrays.

Nothing in this package imports Flask, SQLAlchemy, GeoAlchemy2 or folium
(``tests/test_architecture.py`` enforces it): the same functions serve the
web app, the CLI, notebooks and Dask workers.
"""
