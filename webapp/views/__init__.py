"""The app's pages: each module has ``render()``; ``app.main`` puts them in ``st.navigation``."""
