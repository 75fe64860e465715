"""Training data that looks like live speech: polite -> banmal, casual-speech perturbations, recombined rows, data sets and their checks."""
