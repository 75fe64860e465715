"""Choosing the bot's next move per intent, with per-call state (issue 5)."""
