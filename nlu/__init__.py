"""Understanding what a caller wants: intents, utterance types, entities (issue 4)."""
