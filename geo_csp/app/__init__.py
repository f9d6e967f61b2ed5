"""The Streamlit planning-meeting app: the only package code that imports streamlit.

``app.py`` at the top of the repository is the entry point (navigation, shared sidebar, logging).
``cache.py`` holds bounded cached wrappers around library calls, ``widgets.py`` the shared sidebar and
small display helpers, and ``pages/`` one thin script per page that reads widgets, calls the library
through the cache and renders the result.
"""
