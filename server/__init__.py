"""The pipeline on the web: the app factory, routers by concern, and the one turn orchestration (``turns``)."""
