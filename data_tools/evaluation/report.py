"""Evaluation results for people: a terminal summary and a self-contained HTML report.

The HTML file is one document with nothing fetched from elsewhere: plots are
inline SVG drawn here (a few bars and a grid need no plotting library), and the
worst segments' audio is embedded as base64 WAV, so the report can be mailed or
attached to a pull request and still play. Both views read the results.json
dictionary, so an old results file renders the same way.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

from data_tools.evaluation.scoring import HEADLINE, cut, headline
from stt.audio import AudioError, decode_audio

WORST = 10  # segments with an audio player; each embeds its audio
CHANGES_SHOWN = 10


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _delta(row: dict) -> str:
    if row["delta"] is None:
        return "–"
    sign = "+" if row["delta"] > 0 else ""
    return f"{sign}{row['delta']:.4g}"


def _verdict(row: dict) -> str:
    if not row["delta"]:
        return ""
    return "better" if (row["delta"] < 0) == row["lower_is_better"] else "worse"


def terminal(results: dict, comparison: dict | None = None) -> str:
    """A plain-text summary: headline figures, per-sample-rate rates, problems, and the comparison."""
    summary = results["summary"]
    lines = [f"{summary['n_items']} items, {summary['n_segments']} segments, {summary['audio_s']:.1f} s of audio"]
    width = max(len(name) for name, _, _ in HEADLINE)
    for name, value in headline(summary).items():
        lines.append(f"  {name:<{width}}  {_fmt(value)}")
    lines.append("by sample rate:")
    for rate, rates in summary["by"]["sample_rate"].items():
        lines.append(f"  {rate} Hz: {rates['n_items']} items, CER {_fmt(rates['cer'])}, WER {_fmt(rates['wer'])}, "
                     f"whole-file CER {_fmt(rates['whole_file']['cer'])}")
    intent = summary["intent"]
    if intent and intent["unknown_to_model"]:
        lines.append("intents the model was not trained on: " + ", ".join(intent["unknown_to_model"]))
    if results.get("nlu_note"):
        lines.append(results["nlu_note"])
    for problem in results["problems"]:
        lines.append(f"skipped line {problem['line']}: {problem['error']}")
    if comparison:
        lines.append(f"compared with the old results ({comparison['shared_segments']} shared segments):")
        lines.append(f"  {'metric':<{width}}  {'old':>8}  {'new':>8}  {'delta':>8}")
        for row in comparison["metrics"]:
            lines.append(f"  {row['name']:<{width}}  {_fmt(row['old']):>8}  {_fmt(row['new']):>8}  "
                         f"{_delta(row):>8}  {_verdict(row)}")
        for kind in ("better", "worse"):
            changes = comparison[kind]
            lines.append(f"  {len(changes)} segments got {kind}")
            for c in changes[:CHANGES_SHOWN]:
                lines.append(f"    {Path(c['audio']).name} @{c['start']}s: CER {_fmt(c['old_cer'])} -> "
                             f"{_fmt(c['new_cer'])}, intent {c['old_intent']} -> {c['new_intent']}: {c['new_hyp']}")
    return "\n".join(lines)


def histogram_svg(values: Sequence[float], title: str, unit: str, bins: int = 20,
                  value_range: tuple[float, float] | None = None, width: int = 520, height: int = 220) -> str:
    """Bars of how many values fall in each of ``bins`` equal ranges (of ``value_range`` if given)."""
    if not len(values):
        return f"<p>{html.escape(title)}: no values.</p>"
    counts, edges = np.histogram(values, bins=bins, range=value_range)
    left, bottom, top = 40, 40, 24
    plot_w, plot_h = width - left - 10, height - bottom - top
    bar_w = plot_w / len(counts)
    peak = max(int(counts.max()), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="{width / 2}" y="16" text-anchor="middle" '
             f'font-size="13">{html.escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
             f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="10">{peak}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="10">0</text>']
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        parts.append(f'<rect x="{left + i * bar_w + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
                     f'height="{h:.1f}" fill="#4a78b5"><title>{edges[i]:.3g}–{edges[i + 1]:.3g} {unit}: '
                     f'{count}</title></rect>')
    for x, label in ((left, edges[0]), (left + plot_w / 2, (edges[0] + edges[-1]) / 2), (left + plot_w, edges[-1])):
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="10">'
                     f'{label:.3g}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" font-size="11">'
                 f'{html.escape(unit)}</text></svg>')
    return "".join(parts)


def confusion_svg(labels: Sequence[str], matrix: Sequence[Sequence[int]], cell: int = 28) -> str:
    """Gold intents down, predicted across; darker is more."""
    margin = 8 + 7 * max(len(label) for label in labels)
    size = margin + cell * len(labels) + 10
    width = max(size + margin // 2, margin + 330)  # room for the slanted labels and the caption
    peak = max(max(row) for row in matrix) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{size + 20}" role="img" '
             f'aria-label="intent confusion matrix">',
             f'<text x="{margin}" y="{size + 14}" font-size="11">rows: reference intent, columns: predicted '
             f'from audio</text>']
    for i, label in enumerate(labels):
        y = margin + i * cell
        parts.append(f'<text x="{margin - 4}" y="{y + cell * 0.65:.1f}" text-anchor="end" font-size="11">'
                     f'{html.escape(label)}</text>')
        x = margin + i * cell + cell * 0.65
        parts.append(f'<text x="{x:.1f}" y="{margin - 4}" font-size="11" transform="rotate(-60 {x:.1f} '
                     f'{margin - 4})">{html.escape(label)}</text>')
        for j, count in enumerate(matrix[i]):
            shade = int(255 - 200 * count / peak)
            colour = f"rgb({shade},{shade},255)" if i == j else f"rgb(255,{shade},{shade})"
            parts.append(f'<rect x="{margin + j * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{colour if count else "#f4f4f4"}"><title>{html.escape(label)} -> '
                         f'{html.escape(labels[j])}: {count}</title></rect>')
            if count:
                parts.append(f'<text x="{margin + j * cell + cell / 2:.1f}" y="{y + cell * 0.65:.1f}" '
                             f'text-anchor="middle" font-size="11">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def audio_data_uri(path: str, start: float, end: float) -> str | None:
    """The segment (with the same padding it was transcribed with) as a base64 WAV data URI."""
    try:
        audio = decode_audio(path)
    except (AudioError, OSError):
        return None  # the results outlived the audio: the report still renders, without a player
    piece = cut(audio, start, end)
    buffer = io.BytesIO()
    sf.write(buffer, piece.samples, piece.sample_rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class _Html(str):
    """Table cell content that is already HTML (an audio player)."""


def _table(header: Sequence[str], rows: Sequence[Sequence], classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(f'<tr class="{classes[i] if i < len(classes) else ""}">'
                   + "".join(f"<td>{cell if isinstance(cell, _Html) else html.escape(_fmt(cell))}</td>"
                             for cell in row) + "</tr>" for i, row in enumerate(rows))
    return f"<table><tr>{head}</tr>{body}</table>"


def _rates_rows(groups: dict) -> list[list]:
    return [[value, r["n_items"], r["n_scored_segments"], r["cer"], r["cer_spaced"], r["wer"], r["whole_file"]["cer"]]
            for value, r in groups.items()]


RATE_HEADER = ["value", "items", "scored segments", "CER", "CER with spaces", "WER", "whole-file CER"]


def worst_segments(items: Sequence[dict], n: int = WORST) -> list[tuple[dict, dict]]:
    scored = [(i, s) for i in items for s in i["segments"] if s["errors"]]
    scored.sort(key=lambda pair: (-pair[1]["cer"], -pair[1]["errors"]["char_edits"]))
    return scored[:n]


def render_html(results: dict, comparison: dict | None = None) -> str:
    """The whole report as one HTML document."""
    summary, items = results["summary"], results["items"]
    sections = [f"<h1>kocall eval: {html.escape(Path(results['manifest']).name)}</h1>",
                f"<p>{summary['n_items']} items, {summary['n_segments']} segments, {summary['audio_s']:.1f} s of "
                f"audio; STT model {html.escape(str(results['settings']['stt_model']))}; "
                f"created {html.escape(results['created'])}.</p>"]
    if results.get("nlu_note"):
        sections.append(f'<p class="note">{html.escape(results["nlu_note"])}</p>')
    sections.append("<h2>Headline figures</h2>"
                    + _table(["metric", "value"], [[k, v] for k, v in headline(summary).items()]))
    if comparison:
        sections.append(f"<h2>Compared with the old results</h2><p>{comparison['shared_segments']} shared "
                        "segments.</p>" + _table(
                            ["metric", "old", "new", "delta", ""],
                            [[r["name"], r["old"], r["new"], _delta(r), _verdict(r)] for r in comparison["metrics"]],
                            [_verdict(r) for r in comparison["metrics"]]))
        for kind in ("better", "worse"):
            changes = comparison[kind]
            sections.append(f"<h3>{len(changes)} segments got {kind}</h3>" + _table(
                ["file", "start (s)", "reference", "old hypothesis", "new hypothesis", "old CER", "new CER",
                 "old intent", "new intent"],
                [[Path(c["audio"]).name, c["start"], c["ref"], c["old_hyp"], c["new_hyp"], c["old_cer"], c["new_cer"],
                  c["old_intent"], c["new_intent"]] for c in changes[:CHANGES_SHOWN * 5]]))
    sections.append("<h2>Speech recognition by sample rate</h2>"
                    + _table(["sample rate (Hz)"] + RATE_HEADER[1:], _rates_rows(summary["by"]["sample_rate"])))
    for column, groups in summary["by"]["metadata"].items():
        sections.append(f"<h3>by {html.escape(column)}</h3>" + _table(RATE_HEADER, _rates_rows(groups)))
    cers = [s["cer"] for i in items for s in i["segments"] if s["cer"] is not None]
    sections.append("<h2>CER distribution</h2>" + histogram_svg(
        cers, "CER per segment (spaces ignored)", "CER", value_range=(0.0, max([1.0, *cers]))))
    ts = summary["timestamps"]
    sections.append("<h2>Timestamps</h2>" + _table(
        ["", "n", "median (ms)", "p90 (ms)"],
        [[name, ts[key]["n"], ts[key]["median"], ts[key]["p90"]] for name, key in
         (("boundary error, starts and ends", "boundary_error_ms"), ("start error", "start_error_ms"),
          ("end error", "end_error_ms"))])
        + f"<p>Reference speech {ts['reference_speech_s']} s in {ts['n_items']} timed items: missed "
        f"{ts['missed_speech_s']} s, inserted {ts['inserted_speech_s']} s.</p>")
    intent = summary["intent"]
    if intent:
        text = intent["text"]
        sections.append("<h2>Intent</h2>" + _table(
            ["from", "n", "accuracy", "macro-F1"],
            [["audio (STT, then NLU)", intent["audio"]["n"], intent["audio"]["accuracy"], intent["audio"]["macro_f1"]],
             ["reference text", text["n"] if text else 0, text["accuracy"] if text else None,
              text["macro_f1"] if text else None]]))
        if intent["unknown_to_model"]:
            sections.append("<p class=\"note\">Reference intents the model was never trained on (it cannot get "
                            "these right): " + html.escape(", ".join(intent["unknown_to_model"])) + "</p>")
        sections.append(confusion_svg(intent["confusion"]["labels"], intent["confusion"]["matrix"]))
    lat = summary["latency"]
    sections.append("<h2>Latency</h2>" + _table(
        ["stage", "runs", "total (s)", "median (ms)", "p90 (ms)", "real-time factor"],
        [[stage, v["n"], v["total_s"], v["median_ms"], v["p90_ms"], v["rtf"]] for stage, v in lat.items()]))
    per_segment = [1000 * (s["stt_s"] + s["nlu_s"]) for i in items for s in i["segments"] if s["stt_s"]]
    sections.append(histogram_svg(per_segment, "per-segment latency (STT of the cut + NLU)", "ms"))
    worst = worst_segments(items)
    rows = []
    for item, seg in worst:
        uri = audio_data_uri(item["audio"], seg["start"], seg["end"])
        player = _Html(f'<audio controls preload="none" src="{uri}"></audio>') if uri else "audio missing"
        rows.append([f"{Path(item['audio']).name} (line {item['line']})", seg["start"], seg["end"], seg["cer"],
                     seg["ref"], seg["hyp"], player])
    sections.append(f"<h2>Worst {len(rows)} segments</h2>"
                    + _table(["file", "start (s)", "end (s)", "CER", "reference", "hypothesis", "audio"], rows))
    wrong = [(i, s) for i in items for s in i["segments"] if s["intent"] and s["intent_audio"]
             and s["intent_audio"] != s["intent"]]
    if wrong:
        sections.append(f"<h2>Intent errors from audio ({len(wrong)})</h2>" + _table(
            ["file", "start (s)", "reference intent", "from text", "from audio", "reference", "hypothesis"],
            [[Path(i["audio"]).name, s["start"], s["intent"], s["intent_text"], s["intent_audio"], s["ref"], s["hyp"]]
             for i, s in wrong[:CHANGES_SHOWN * 5]]))
    if results["problems"]:
        sections.append("<h2>Skipped manifest lines</h2>" + _table(
            ["line", "reason"], [[p["line"], p["error"]] for p in results["problems"]]))
    style = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}"
             "tr.better td{background:#e6f4e6}tr.worse td{background:#fbe3e3}.note{color:#a33}")
    return (f'<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>kocall eval</title>'
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>")
