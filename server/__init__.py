"""The pipeline on the web: FastAPI app, and (later) the telephony and chat edges."""
