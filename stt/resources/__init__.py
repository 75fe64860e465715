"""Data files shipped with the STT stage (the default domain lexicon)."""
