"""Training the NLU classifiers (tokenizer, pre-training, calibration, thresholds) and the default models' recipes."""
