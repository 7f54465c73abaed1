"""The investigator app (Streamlit): ``app.py`` is the entry, pages in ``app/views``, logic in plain functions."""
