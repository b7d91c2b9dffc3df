"""The local Plexe-compatible engine: an HTTP server that trains scikit-learn models.

Importing this package is cheap on purpose: FastAPI, pandas and scikit-learn load only
when a submodule that needs them is imported, so the app can import the launcher at
startup without paying for the engine.
"""
