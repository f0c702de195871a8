"""DeepDifE dashboard entry point: ``streamlit run dashboard/app.py`` (``make run``).

Pages are thin scripts in ``pages/``; add a page (tune, saliency, motifs, …) by
adding a row to :data:`PAGES`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on sys.path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import page_start, sidebar, state, urlstate  # noqa: E402
from dashboard.widgets import log_bug, show_bug  # noqa: E402

#: (script in pages/, title, icon); the script's stem is the page's URL path (``/saliency``)
PAGES: list[tuple[str, str, str]] = [
    ("start.py", "Start", ":material/home:"),  # the first page is where a visit lands
    ("data.py", "Data", ":material/dataset:"),
    ("train.py", "Train", ":material/model_training:"),
    ("tune.py", "Tune", ":material/tune:"),
    ("models.py", "Models", ":material/inventory_2:"),
    ("predict.py", "Predict", ":material/online_prediction:"),
    ("saliency.py", "Saliency", ":material/insights:"),
    ("motifs.py", "Motifs", ":material/pattern:"),
    ("experiments.py", "Experiments", ":material/science:"),
    ("variants.py", "Variants", ":material/genetics:"),
]


def main() -> None:
    """Configure the page, build the navigation and the sidebar, run the selected page."""
    st.set_page_config(page_title="DeepDifE", page_icon=":seedling:", layout="wide")
    state.init()
    pages = [st.Page(str(ROOT / "pages" / script), title=title, icon=icon) for script, title, icon in PAGES]
    current = st.navigation(pages)
    try:
        urlstate.read()  # a reload, a new tab or a shared link brings the session's choices back
        page_start.first_visit()  # `make run`: an empty workspace lands on the demo dataset and model
        sidebar.render()
        current.run()
        urlstate.write()
    except Exception as exc:  # the last guard: a bug shows an apology, never a traceback
        show_bug(log_bug(exc))


main()
