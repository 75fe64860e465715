import warnings

import numpy as np

from stt import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the reference implementation (removed in Python 3.13)

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


def test_encode_is_bit_exact_with_the_reference_for_every_sample_value():
    assert g711.encode(ALL_INT16) == audioop.lin2ulaw(ALL_INT16.tobytes(), 2)


def test_decode_is_bit_exact_with_the_reference_for_every_code():
    codes = bytes(range(256))
    expected = np.frombuffer(audioop.ulaw2lin(codes, 2), dtype=np.int16)
    np.testing.assert_array_equal(g711.decode(codes), expected)


def test_round_trip_error_stays_within_the_codec_step():
    x = ALL_INT16.astype(np.int32)
    error = np.abs(g711.decode(g711.encode(ALL_INT16)).astype(np.int32) - x)
    # mu-law's step grows with amplitude: the finest step is 8, then about 1/16 of the segment.
    assert np.all(error <= 7 + np.abs(x) / 30)


def test_real_speech_survives_the_codec_with_telephone_quality(leopard):
    from stt.audio import to_pcm16

    pcm = to_pcm16(leopard.samples).astype(np.float64)
    decoded = g711.decode(g711.encode(pcm.astype(np.int16))).astype(np.float64)
    snr_db = 10 * np.log10(np.sum(pcm**2) / np.sum((decoded - pcm) ** 2))
    assert snr_db > 30  # G.711 is specified around 38 dB SQNR
