"""Live telephone audio: 20 ms mu-law frames in, utterances and barge-in out."""

import numpy as np
import pytest

from core.settings import EndpointSettings
from data_tools.evaluation.metrics import cer
from stt.audio import Audio, to_mulaw
from stt.endpoint import KEEP_SILENCE_MS, Endpointer, LiveRecognizer, SpeechPaused, SpeechStarted, Utterance

from .conftest import LEOPARD_CER_BOUND, silence, spoken_word

FRAME = 160  # bytes of mu-law = 20 ms at 8 kHz


def frames(audio: Audio):
    data = to_mulaw(audio)
    return [data[i:i + FRAME] for i in range(0, len(data), FRAME)]


def call(*parts: np.ndarray) -> Audio:
    return Audio(np.concatenate(parts), 16000)


def stream(endpointer, audio: Audio, flush: bool = True):
    events = []
    for i, frame in enumerate(frames(audio)):
        events += [(i * 0.02, e) for e in endpointer.feed_mulaw(frame)]
    if flush:
        events += [(audio.duration_s, e) for e in endpointer.flush()]
    return events


def test_one_utterance_with_barge_in_then_transcript(transcriber, leopard, leopard_reference):
    live = LiveRecognizer(Endpointer(EndpointSettings()), transcriber)
    events = stream(live, call(silence(1), leopard.samples, silence(1.5)), flush=False)
    kinds = [type(e) for _, e in events]
    assert kinds == [SpeechStarted, Utterance]
    (started_at, started), (ended_at, utterance) = events
    speech_onset = 1 + leopard_reference["words"][0]["start"]
    speech_end = 1 + leopard_reference["words"][-1]["end"]
    assert started.at_s == pytest.approx(speech_onset, abs=0.45)
    assert started_at - started.at_s < 0.3  # barge-in is signalled within 300 ms of speech
    assert utterance.end_s == pytest.approx(speech_end, abs=0.3)
    assert ended_at - utterance.end_s == pytest.approx(0.5, abs=0.1)  # end_silence_ms
    assert utterance.audio.sample_rate == 16000
    assert not utterance.cut_at_max_length
    assert cer(leopard_reference["text"], utterance.transcript.text) <= LEOPARD_CER_BOUND


def _line_noise() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    t = np.arange(16000 * 3) / 16000
    clicks = np.zeros(len(t))
    clicks[rng.integers(0, len(t), 40)] = 0.8
    return {
        "hiss": 0.005 * rng.standard_normal(len(t)),
        "loud white noise": 0.3 * rng.standard_normal(len(t)),
        "mains hum and hiss": 0.05 * np.sin(2 * np.pi * 60 * t) + 0.01 * rng.standard_normal(len(t)),
        "breath": 0.3 * np.convolve(rng.standard_normal(len(t)), np.ones(30) / 30, "same")
        * np.clip(np.sin(np.pi * t), 0, None) ** 2,
        "keyboard clicks": np.convolve(clicks, np.exp(-np.arange(200) / 30), "same"),
        "a tone": 0.2 * np.sin(2 * np.pi * 440 * t),
    }


@pytest.mark.parametrize("name", list(_line_noise()))
def test_silence_and_line_noise_give_no_events(name):
    """No turn for the server to decode: on noise the beam writes guesses such as 네. (stt.transcribe)."""
    noise = np.clip(_line_noise()[name], -1, 1).astype(np.float32)
    assert stream(Endpointer(EndpointSettings()), call(silence(1), noise, silence(1))) == []


def test_two_turns_come_out_as_two_utterances(leopard):
    events = stream(Endpointer(EndpointSettings()), call(leopard.samples, silence(1.5), leopard.samples, silence(1)))
    utterances = [e for _, e in events if isinstance(e, Utterance)]
    assert len(utterances) == 2
    assert utterances[1].start_s > utterances[0].end_s + 1


def test_a_pause_announces_the_utterance_it_ends_with_its_final_audio(leopard, leopard_reference):
    """Two sentences 0.35 s apart (a pause the caller talks on after), then the end: the pause's utterance is
    followed by a longer one, and the last pause's utterance is, sample for sample, the one that ends the turn."""
    words = leopard_reference["words"]
    sentence = leopard.samples[int(words[0]["start"] * 16000) - 1600: int(words[-1]["end"] * 16000) + 800]
    events = stream(Endpointer(EndpointSettings()), call(silence(0.5), sentence, silence(0.35), sentence, silence(1)))
    ends = [(t, e) for t, e in events if isinstance(e, (SpeechPaused, Utterance))]
    paused = [(t, e.utterance) for t, e in ends if isinstance(e, SpeechPaused)]
    (ended_at, utterance), = [(t, e) for t, e in ends if isinstance(e, Utterance)]
    assert len(paused) >= 2 and isinstance(ends[-1][1], Utterance)
    assert paused[0][1].end_s < 0.5 + len(sentence) / 16000 + 0.1 < utterance.end_s  # the caller went on
    last_at, last = paused[-1]
    assert (last.start_s, last.end_s, last.cut_at_max_length) == (utterance.start_s, utterance.end_s, False)
    np.testing.assert_array_equal(last.audio.samples, utterance.audio.samples)
    assert last_at - utterance.end_s == pytest.approx(KEEP_SILENCE_MS / 1000, abs=0.1)
    assert ended_at - last_at == pytest.approx(0.3, abs=0.05)  # decoding may start 300 ms before the end


def test_long_speech_is_cut_at_the_maximum_length(leopard):
    settings = EndpointSettings(max_utterance_s=4.0)
    events = stream(Endpointer(settings), call(*[leopard.samples[4000:-8000]] * 4))
    utterances = [e for _, e in events if isinstance(e, Utterance)]
    assert utterances[0].cut_at_max_length
    assert utterances[0].audio.duration_s <= 4.0 + 0.6  # plus pre-roll
    assert len(utterances) >= 2
    assert sum(isinstance(e, SpeechStarted) for _, e in events) == 1


def test_hanging_up_mid_sentence_still_delivers_the_utterance(leopard):
    endpointer = Endpointer(EndpointSettings())
    events = stream(endpointer, call(silence(0.5), leopard.samples[: 16000 * 2]), flush=False)
    assert [type(e) for _, e in events] == [SpeechStarted]
    (utterance,) = endpointer.flush()
    assert utterance.audio.duration_s > 1.0


def test_a_one_word_reply_whose_speech_scores_hover_at_the_threshold_is_a_turn(leopard, leopard_reference):
    """걸어갔다 (0.38 s, cut 150 ms before and 200 ms after its reference timestamps) through the phone path: the VAD
    scores its chunks 0.56 0.47 0.51 0.46 0.58 ... A run that had to stay over the speech threshold (0.5) began
    only at its last syllable, 160 ms before its end, and the reply was dropped as shorter than
    min_utterance_ms. Now the turn holds the whole word (at 0.65-1.03 s of the call)."""
    word = spoken_word(leopard, leopard_reference, "걸어갔다")
    events = stream(Endpointer(EndpointSettings()), call(silence(0.5), word, silence(1)))
    (utterance,) = [e for _, e in events if isinstance(e, Utterance)]
    assert utterance.start_s <= 0.65 and utterance.end_s >= 1.03


def test_a_click_is_too_short_to_be_an_utterance():
    click = np.zeros(1600, np.float32)
    click[::40] = 0.9
    events = stream(Endpointer(EndpointSettings()), call(silence(1), click, silence(1)))
    assert not [e for _, e in events if isinstance(e, Utterance)]


def test_streaming_vad_agrees_exactly_with_faster_whispers_whole_file_pass(leopard):
    from faster_whisper.vad import get_vad_model

    from stt.vad import CHUNK, StreamingVad

    n = len(leopard.samples) // CHUNK * CHUNK
    offline = get_vad_model()(leopard.samples[:n]).reshape(-1)
    vad = StreamingVad()
    live = np.array([vad.score(leopard.samples[i:i + CHUNK]) for i in range(0, n, CHUNK)])
    np.testing.assert_allclose(live, offline, atol=1e-6)
    assert live.max() > 0.9 and live[:5].max() < 0.2  # speech found, leading silence not
