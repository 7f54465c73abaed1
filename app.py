"""ringscope's investigator app: `streamlit run app.py` (or `ringscope up`).

A small entry: the frame, sign-in and navigation are in webapp/main.py, the
pages in webapp/views/, the graph component in webapp/components/, the logic
in plain functions (webapp/state.py) that the tests call directly.
"""

import os
import sys

# `streamlit run` puts this file's folder first on sys.path. That folder is the
# `ringscope` package itself, so its subpackages (graph, queries, common, ...)
# would become importable as top-level names and could shadow other projects'
# modules in this process; everything here is imported as `ringscope.*`.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

from ringscope.webapp.main import main  # noqa: E402

main()
