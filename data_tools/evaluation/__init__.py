"""Offline evaluation: JSONL manifests, metrics (CER, WER, chrF, accuracy), `kocall eval` scoring and its report."""
