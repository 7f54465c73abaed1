"""ringscope's investigator app: `streamlit run app.py` (or `ringscope up`).

A small entry: the frame, sign-in and navigation are in app/main.py, the pages
in app/views/, the graph component in app/components/, the logic in plain
functions (app/state.py) that the tests call directly.
"""

from app.main import main

main()
