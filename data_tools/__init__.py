"""Offline work, one subpackage per capability; nothing that serves a call imports ``augment`` or ``training``.

* ``augment``: training data that looks like live speech (banmal conversion, perturbations, recombination,
  data sets and their checks);
* ``training``: training the NLU models and the default recipes (``kocall train``);
* ``labeling``: the transcription labeling store, its imports and exports;
* ``evaluation``: manifests, metrics and ``kocall eval`` with its report;
* ``calllog``: the turn log the server writes, and monitoring over it.
"""
