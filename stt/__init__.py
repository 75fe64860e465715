"""Speech to text for Korean telephone and web audio.

decode (``audio``, ``g711``) -> resample (``resample``) -> VAD and Whisper
(``transcribe``, ``model``) -> lexicon correction (``lexicon``); live calls go
through ``endpoint``. stt knows nothing of intents or dialog.
"""
