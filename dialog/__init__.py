"""Choosing the bot's next move per intent, with per-call state. Sees an understood utterance, never a model."""
