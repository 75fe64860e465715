"""The ground floor: what every other package may use, importing none of them.

``settings`` (the one configuration object), ``korean`` (the shared Kiwi
analyser), ``lexicon`` (Korean fuzzy term matching, for STT correction and NLU
entities) and ``domain`` (where a domain pack's files are).
"""

__version__ = "0.1.0"
