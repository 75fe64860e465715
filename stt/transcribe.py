"""Korean transcription with faster-whisper: segments, word timestamps, confidences.

:class:`Transcriber` holds the loaded model and the decoding options; build it once
per process with :func:`get_transcriber` and share it. Results are small frozen
dataclasses that serialise with :func:`dataclasses.asdict`. Times are in seconds
from the start of the audio given.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer

from core.lexicon import Lexicon
from core.settings import SttSettings
from stt.audio import MODEL_RATE, Audio
from stt.model import load_model
from stt.vad import speech_onset

WINDOW_S = 30.0  # Whisper decodes at most this much audio at a time
MAX_NEW_TOKENS = 224  # half the 448-token context, as Whisper samples; leaves room for a prompt
MAX_INITIAL_TIMESTAMP = 50  # the first timestamp token at most 1 s in (20 ms steps), as faster-whisper decodes


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: tuple[Segment, ...]
    duration_s: float
    sample_rate: int

    @classmethod
    def of(cls, audio: Audio, segments: Iterable[Segment]) -> Transcript:
        """The transcript of ``audio`` (at its input rate) made of ``segments``."""
        segments = tuple(segments)
        return cls(" ".join(s.text for s in segments), segments, round(audio.duration_s, 3), audio.sample_rate)


class Transcriber:
    """A loaded Whisper model with this project's decoding options."""

    def __init__(self, model: WhisperModel, settings: SttSettings, lexicon: Lexicon | None) -> None:
        self.model = model
        self.settings = settings
        self.lexicon = lexicon if settings.biasing else None
        # Hangul only is for Korean: decoding another language keeps its letters.
        self.suppress_tokens = [-1] + _tokens_with(model, digits=settings.spell_numbers,
                                                   latin=not settings.latin_letters and settings.language == "ko")

    def segments(self, audio: Audio, *, word_timestamps: bool = True) -> Iterator[Segment]:
        """Decode lazily: long audio yields segments as they are ready (for progress bars)."""
        samples = audio.at_rate(MODEL_RATE).samples
        per_second = self.settings.max_tokens_per_second
        cap = None if per_second is None else min(MAX_NEW_TOKENS, math.ceil(10 + per_second * min(audio.duration_s,
                                                                                                  WINDOW_S)))
        raw, _ = self.model.transcribe(
            samples,
            language=self.settings.language,
            beam_size=self.settings.beam_size,
            vad_filter=self.settings.vad,
            word_timestamps=word_timestamps,
            initial_prompt=self.lexicon.prompt() if self.lexicon and self.settings.prompt_biasing else None,
            hotwords=self.lexicon.prompt() if self.lexicon and self.settings.hotwords else None,
            suppress_tokens=self.suppress_tokens,
            condition_on_previous_text=False,
            max_new_tokens=cap,
        )
        # A window Whisper finds to be no speech (no-speech probability over 0.6, mean log-probability under
        # -1) yields no segments: faster-whisper drops it.
        # Whisper stretches the first word back over the silence before it (a word at 0.67 s is given 0.0); the
        # VAD's first speech puts the start where the caller began. Only times move, never text.
        onset = speech_onset(samples) if word_timestamps else 0.0
        for seg in raw:
            words = tuple(Word(round(onset if w.start < onset < w.end else w.start, 3), round(w.end, 3),
                               w.word.strip(), round(w.probability, 4)) for w in seg.words or ())
            start = words[0].start if words and seg.start < onset else seg.start
            segment = Segment(round(start, 3), round(seg.end, 3), seg.text.strip(),
                              round(seg.avg_logprob, 4), round(seg.no_speech_prob, 4), words)
            segment = self._correct(segment)
            if segment.text:
                yield segment

    def transcribe(self, audio: Audio, *, word_timestamps: bool = True, turn: bool = False) -> Transcript:
        """``turn``: ``audio`` is a live call's turn, in which the endpointer's VAD found speech; if Whisper drops
        all of it as no speech, the beam's best reading is taken instead (``reread_empty_turns``)."""
        transcript = Transcript.of(audio, self.segments(audio, word_timestamps=word_timestamps))
        if turn and self.settings.reread_empty_turns and not transcript.text:
            best = self.beam(audio, 1)[:1]
            if best:
                return Transcript.of(audio, best)
        return transcript

    def alternatives(self, audio: Audio, n: int) -> list[str]:
        """Up to ``n`` different readings of a turn's first 30 s, best first: the beam's ``n`` best hypotheses
        (the beam at least ``n`` wide), lexicon-corrected; those that differ only in punctuation count once.

        A second decode, for the turns whose first reading made no sense to the dialog (see :meth:`beam`;
        on noise the beam holds short guesses such as 네.: the caller filters).
        """
        readings: dict[str, str] = {}  # by its letters: hypotheses that differ only in punctuation are one
        for segment in self.beam(audio, n):
            readings.setdefault(letters(segment.text), segment.text)
        return [text for key, text in readings.items() if key]

    def beam(self, audio: Audio, n: int) -> list[Segment]:
        """The beam's ``n`` best hypotheses for the first 30 s, lexicon-corrected, each as one segment without
        word timings: the same prompt as :meth:`segments`, so the first is its reading at temperature 0, but
        no temperature fallback and no no-speech check."""
        samples = audio.at_rate(MODEL_RATE).samples[: int(WINDOW_S * MODEL_RATE)]
        model = self.model
        features = pad_or_trim(model.feature_extractor(samples)[:, :-1])
        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                              language=self.settings.language)
        prompt = model.get_prompt(tokenizer, [])  # with timestamps, as transcribe() decodes: the same best reading
        result = model.model.generate(
            model.encode(features), [prompt], beam_size=max(n, self.settings.beam_size), num_hypotheses=n,
            max_length=len(prompt) + MAX_NEW_TOKENS, suppress_tokens=self.suppress_tokens, suppress_blank=True,
            max_initial_timestamp_index=MAX_INITIAL_TIMESTAMP, return_scores=True, return_no_speech_prob=True,
        )[0]
        end = round(min(audio.duration_s, WINDOW_S), 3)
        # CTranslate2's score is the mean log-probability of the tokens; faster-whisper's mean counts one more.
        return [self._correct(Segment(0.0, end, tokenizer.decode(tokens).strip(),
                                      round(score * len(tokens) / (len(tokens) + 1), 4),
                                      round(result.no_speech_prob, 4)))
                for tokens, score in zip(result.sequences_ids, result.scores)]

    def _correct(self, segment: Segment) -> Segment:
        """Lexicon post-correction, applied to words so that text and word timings agree."""
        if self.lexicon is None:
            return segment
        if not segment.words:
            tokens = segment.text.split()
            edits = self.lexicon.corrections(tokens, self.settings.correction_threshold)
            for edit in reversed(edits):
                tokens[edit.start:edit.end] = [edit.text]
            return replace(segment, text=" ".join(tokens))
        words = list(segment.words)
        edits = self.lexicon.corrections([w.word for w in words], self.settings.correction_threshold)
        if not edits:
            return segment
        for edit in reversed(edits):
            span = words[edit.start:edit.end]
            words[edit.start:edit.end] = [Word(span[0].start, span[-1].end, edit.text,
                                               min(w.probability for w in span))]
        return replace(segment, words=tuple(words), text=" ".join(w.word for w in words))


def letters(text: str) -> str:
    """The text without spaces and punctuation: two readings that differ only there are one."""
    return re.sub(r"[\W_]", "", text)


def _tokens_with(model: WhisperModel, digits: bool, latin: bool) -> list[int]:
    """Ids of the text tokens that contain a digit (``digits``) or a Latin letter (``latin``); special tokens
    come after end-of-text."""
    if not digits and not latin:
        return []
    tokenizer = model.hf_tokenizer
    end_of_text = tokenizer.token_to_id("<|endoftext|>")

    def suppressed(text: str) -> bool:
        return any((digits and c.isdigit()) or (latin and c.isascii() and c.isalpha()) for c in text)

    return [i for i in range(end_of_text) if suppressed(tokenizer.decode([i]))]


@functools.lru_cache(maxsize=4)
def get_transcriber(settings: SttSettings, cache_dir: Path, lexicon_file: Path) -> Transcriber:
    """The process-wide transcriber for these settings (model and the domain's lexicon loaded once)."""
    lexicon = Lexicon.load(lexicon_file) if settings.biasing else None
    return Transcriber(load_model(settings, cache_dir), settings, lexicon)
