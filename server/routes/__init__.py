"""One APIRouter per concern, included by `server.app.create_app`."""
