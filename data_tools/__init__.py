"""Training-data tools, labeling and offline evaluation."""
