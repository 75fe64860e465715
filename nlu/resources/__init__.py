"""Data shipped with the NLU stage: the default card/bank intent examples.

``card_bank_intents.csv``: polite examples written for this project (train and
polite test are split from it). ``card_bank_intents_informal_test.csv``: banmal,
fragment and slang test utterances written separately, never trained on.
"""
