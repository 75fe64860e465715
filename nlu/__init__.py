"""Understanding what a caller wants (intent, utterance type, entities), for serving only.

Models are trained by ``data_tools.training``; this package loads and runs them.
"""
