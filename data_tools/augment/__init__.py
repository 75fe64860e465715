"""Training data that looks like live speech.

Polite -> banmal conversion, casual-speech perturbations, recombined rows, data sets and their checks.
"""
