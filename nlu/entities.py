"""Entities in caller text: domain terms, amounts and numbers, dates, phone and card numbers.

* Domain terms come from a gazetteer (``CATEGORY<TAB>term``, or
  ``CATEGORY<TAB>term<TAB>name`` where a short or colloquial term stands for a
  name: 신한 for 신한은행) matched with the STT lexicon's jamo-level fuzzy
  matcher, so 강남 지점 and 강남지점을 both find the branch, and so do Whisper's
  near-misses of it. The entity's value is the name, as a call center's systems
  and the read-back need it.
* Numbers are read in digits and in Sino-Korean words (삼만 오천 원 -> 35000,
  3만 5천 -> 35000); a run of spoken digits (공일공 일이삼사 ...) becomes a digit
  string.
* Dates: 오늘/내일/모레/어제, N월 N일, N일, 다음 주 X요일, as ISO dates relative to
  the day of the call.
* Phone and card numbers are found in digits or spoken digits and carry a
  ``masked`` form; logs must only ever show that one. The last four digits said
  again after a word for the end (끝자리 9876이요) are ``last_digits``, with which a
  form corrects a number it holds.
* A turn of one word that starts exactly one gazetteer name (신용, 하나요) is that
  name (:meth:`EntityExtractor._alone`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from core.lexicon import PARTICLES, Lexicon

MATCH_THRESHOLD = 84.0
DIGIT_WORDS = {"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6, "칠": 7, "팔": 8, "구": 9}
SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
BIG_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12}
NATIVE = {"한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}
WEEKDAYS = "월화수목금토일"
_NUMERAL_CHARS = "".join(DIGIT_WORDS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS)
# A number: digits (with , separators) or Sino-Korean numerals, in parts that may be spaced (삼만 오천).
# Said in Hangul, it must start a word: the 일 of 결제일 is no number; written in digits, it may follow a word
# typed without a space (결제일25일로).
_NUMBER = re.compile(rf"(?:(?<![\d,])\d[\d,]*|(?<![가-힣\d])[{_NUMERAL_CHARS}]+)(?:\s?(?:\d[\d,]*|[{_NUMERAL_CHARS}]+))*")
_COUNTERS = ("원", "월", "일", "시", "분", "개", "번", "살", "년", "개월", "퍼센트", "%")
# After N일, words that make it a number of days, not a day of the month (벌써 삼 일 지났는데, 이틀째, 오 일 동안)
_DURATION = re.compile(r"\s?(?:째|동안|간\b|지나|지났|만에|넘게|넘었|넘어)")
_PHONE = re.compile(r"(?<!\d)(01[016789])[-\s]?(\d{3,4})[-\s]?(\d{4})(?!\d)")
_CARD = re.compile(r"(?<!\d)(\d{4})[-\s]?(\d{4})[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
_DIGIT_GROUP = rf"[{''.join(DIGIT_WORDS)}0-9]+"  # digits said or written together (공일공, 010)
# between groups: a space, a dash, a word for "and" or "then" (공일공에 구팔칠육에 오사삼이, 공일공 다음에 팔팔이삼
# 그라고 사칠칠공), or a filler as the caller reads on (일일공 삼사오 음 육칠팔)
_JOIN = r"(?:\s?에|\s(?:다음에|그리고|그라고|음|어|으음))?[\s-]"
_DIGIT_RUN = rf"{_DIGIT_GROUP}(?:{_JOIN}{_DIGIT_GROUP})*"
# Digits corrected as they are said (공일공 구팔칠육 어 아니다 구팔칠칠 오사삼이요; 아이다 in Gyeongsang speech; 공일공
# 육육이삼 아 잠깐만요 육육삼이 사사공구; ... 오사삼이 아 아니다 끝자리 오사삼팔): the groups after 아니 or 잠깐 replace
# the group said just before it.
_CORRECTED = re.compile(rf"({_DIGIT_RUN})\s+(?:[어아음]\s+)?(?:아니다|아니요|아니고|아니|아이다|잠깐만요|잠깐만|잠깐)"
                        rf"\s+(?:(?:끝자리|끝에|마지막|뒷자리)\S*\s+)?({_DIGIT_RUN})")
# The last four digits said again to correct them (끝자리 9876이요, 아니여 끝에가 사사오육이여, 마지막이 사칠칠공):
# after a word for the end, four digits and no more (a 이 after them is the copula's where an ending follows it)
_LAST_DIGITS = re.compile(r"(?:끝자리|끝번호|끝에|끝이|마지막|뒷자리|뒷번호)\S*\s*((?:[0-9]|[공영일이삼사오육칠팔구]){4})"
                          r"(?=$|\s|[^0-9공영일이삼사오육칠팔구]|이(?:요|여|야|에요|예요|라|다|고|$|\s))")


@dataclass(frozen=True)
class Entity:
    type: str  # a gazetteer category, "amount", "number", "day_of_month", "date", "phone", "card_number",
    # "account_number", "last_digits" (the last four of a number said before, said again to correct them)
    value: str | int
    text: str  # the span as written
    start: int
    end: int
    masked: str | None = None  # for phone and card numbers: what may be logged


def parse_korean_number(text: str) -> int | None:
    """'삼만 오천' -> 35000, '3만5천' -> 35000, '35,000' -> 35000, '백' -> 100; None if not a number."""
    total = section = 0
    current: int | None = None
    for part in re.findall(rf"\d[\d,]*|[{_NUMERAL_CHARS}]", text.replace(" ", "")):
        if part[0].isdigit():
            current = int(part.replace(",", ""))
        elif part in DIGIT_WORDS:
            current = DIGIT_WORDS[part] if current is None else current * 10 + DIGIT_WORDS[part]
        elif part in SMALL_UNITS:
            section += (1 if current is None else current) * SMALL_UNITS[part]
            current = None
        elif part in BIG_UNITS:
            total += (section + (current or 0) or 1) * BIG_UNITS[part]
            section, current = 0, None
        else:
            return None
    return total + section + (current or 0)


def spoken_digits(text: str) -> str | None:
    """'공일공 일이삼사' -> '0101234' when the span is only digit words (no 십/백/만)."""
    chars = text.replace(" ", "").replace("-", "")
    if chars and all(c in DIGIT_WORDS or c.isdigit() for c in chars):
        return "".join(c if c.isdigit() else str(DIGIT_WORDS[c]) for c in chars)
    return None


def _digits_of(run: str) -> str | None:
    """The digits of a run of groups (:data:`_DIGIT_RUN`), joined by spaces, dashes or 에."""
    return spoken_digits(" ".join(re.split(_JOIN, run)))


def _is_phone(digits: str) -> bool:
    """A Korean mobile number: 010 and eight digits, or an older prefix (011, 016-019) and seven or eight."""
    return ((digits.startswith("010") and len(digits) == 11)
            or (digits.startswith(("011", "016", "017", "018", "019")) and len(digits) in (10, 11)))


def _mask_phone(digits: str) -> str:
    return f"{digits[:3]}-****-{digits[-4:]}"


def _mask_card(digits: str) -> str:
    return f"****-****-****-{digits[-4:]}"


_COPULA_ENDINGS = ("에요", "예요", "요", "야", "고", "다", "라", "죠", "지", "네")
_AFTER_COPULA = ("요", "에요", "고", "야", "라", "니까", "지만", "면")  # after a number's copula 이 (이십오 일이라서)


def _open_syllable(char: str) -> bool:
    """Whether a Hangul syllable ends in its vowel (사, 오, 이; not 삼, 칠): Hangul syllables cycle through 28
    finals, the first none."""
    code = ord(char) - 0xAC00
    return 0 <= code < 11172 and code % 28 == 0


def _mask_account(digits: str) -> str:
    return f"{'*' * (len(digits) - 4)}{digits[-4:]}"


def _identifier(digits: str, span: str, start: int) -> Entity | None:
    """The number ``digits`` said as ``span`` at ``start``: a card (sixteen digits), a phone, a bank account (ten
    to fourteen digits), or none."""
    end = start + len(span)
    if len(digits) == 16:
        return Entity("card_number", digits, span, start, end, _mask_card(digits))
    if _is_phone(digits):
        return Entity("phone", digits, span, start, end, _mask_phone(digits))
    if 10 <= len(digits) <= 14:
        return Entity("account_number", digits, span, start, end, _mask_account(digits))
    return None


class EntityExtractor:
    """Holds the gazetteer; one per process."""

    def __init__(self, gazetteer: dict[str, str], names: dict[str, str] | None = None) -> None:
        """``gazetteer``: term -> category; ``names``: term -> the name it stands for (default: itself)."""
        self.categories = gazetteer
        self.names = names or {}
        self.lexicon = Lexicon(tuple(gazetteer))

    @classmethod
    def load(cls, path: Path) -> EntityExtractor:
        """A ``CATEGORY<TAB>term[<TAB>name]`` file (a domain pack's ``gazetteer.tsv``)."""
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read gazetteer {path}: {exc}") from exc
        gazetteer, names = {}, {}
        for n, line in enumerate(text.splitlines(), 1):
            fields = [" ".join(f.split()) for f in line.split("#", 1)[0].strip().split("\t")]
            if fields == [""]:
                continue
            if len(fields) not in (2, 3) or not all(fields):
                raise ValueError(f"gazetteer line {n}: expected CATEGORY<TAB>term or CATEGORY<TAB>term<TAB>name, "
                                 f"got {line.strip()!r}")
            gazetteer[fields[1]] = fields[0]
            if len(fields) == 3:
                names[fields[1]] = fields[2]
        return cls(gazetteer, names)

    def extract(self, text: str, today: dt.date | None = None) -> list[Entity]:
        today = today or dt.date.today()
        found = self._identifiers(text) + self._dates(text, today)
        if not found:
            found = [Entity("last_digits", spoken_digits(m.group(1)) or m.group(1), m.group(1), m.start(1), m.end(1))
                     for m in _LAST_DIGITS.finditer(text)][-1:]
        taken = [(e.start, e.end) for e in found]
        found += [e for e in self._numbers(text) if not _overlaps(e, taken)]
        found += self._terms(text)
        if not found:
            found = self._alone(text)
        return sorted(found, key=lambda e: e.start)

    def _alone(self, text: str) -> list[Entity]:
        """A turn of one word that is the start of exactly one name, the rest of which is a head noun of two
        syllables or more (신용 for 신용카드, 체크요 for 체크카드, 하나요 for 하나은행): asked which card or bank,
        callers name it so. In a sentence (신용 점수, 하나 더) the word is no term; nor is 카드 the start of 카드론."""
        words = text.split()
        if len(words) != 1:
            return []
        word, names = words[0], {self.names.get(term, term) for term in self.categories}
        for cut in range(len(word), 1, -1):
            if word[cut:] not in PARTICLES:
                continue
            stem = word[:cut]
            started = {name for name in names if name.startswith(stem) and len(name.replace(" ", "")) - cut >= 2}
            if started:
                if len(started) > 1:
                    return []
                name = started.pop()
                category = next(self.categories[t] for t in self.categories if self.names.get(t, t) == name)
                return [Entity(category, name, stem, text.index(stem), text.index(stem) + cut)]
        return []

    def _terms(self, text: str) -> list[Entity]:
        words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]
        out = []
        for match in self.lexicon.find([w for *_, w in words], MATCH_THRESHOLD):
            start, end = words[match.start][0], words[match.end - 1][1]
            out.append(Entity(self.categories[match.term], self.names.get(match.term, match.term), text[start:end],
                              start, end))
        return out

    def _identifiers(self, text: str) -> list[Entity]:
        out = []
        for m in _CARD.finditer(text):
            digits = "".join(m.groups())
            out.append(Entity("card_number", digits, m.group(), m.start(), m.end(), _mask_card(digits)))
        for m in _PHONE.finditer(text):
            digits = "".join(m.groups())
            if _is_phone(digits) and not any(e.start <= m.start() < e.end for e in out):
                out.append(Entity("phone", digits, m.group(), m.start(), m.end(), _mask_phone(digits)))
        for m in _CORRECTED.finditer(text):
            before, after = re.split(_JOIN, m.group(1)), m.group(2)
            readings = [_identifier(_digits_of(" ".join([*before[:-1], said])) or "",
                                    text[m.start():m.start(2) + len(said)], m.start())
                        for said in ((after, after[:-1].rstrip()) if after.endswith("이") else (after,))]
            # 이: a last 2, or the copula; a phone or card number, if one reading makes it, over an account number
            found = [r for r in readings if r is not None]
            entity = next((r for r in found if r.type != "account_number"), found[0] if found else None)
            if entity is not None and not any(e.start <= m.start() < e.end for e in out):
                out.append(entity)
        # Digit runs, spoken or written, spaced or dashed: 공일공 일이삼사 오육칠팔 (phone), sixteen digits (card),
        # else ten to fourteen digits (a bank account: 일일공 이이삼 사오육칠팔구, 110-123-456789).
        for m in re.finditer(rf"{_DIGIT_GROUP}(?:{_JOIN}{_DIGIT_GROUP})+", text):
            span = m.group()
            last = re.split(_JOIN, span)[-1]
            if (len(last) == 1 and re.match(r"[가-힣]", text[m.end():m.end() + 1])
                    and not text[m.end():].startswith(_COPULA_ENDINGS)):
                span = span[:-1].rstrip(" -")  # 육칠팔구공일 이렇게, 오사삼 일단: a word that opens with a digit's syllable
                if not span:
                    continue
            if span.endswith("이"):
                # 오육칠팔이요, 456789 이에요: the copula 이, not a last digit 2; so is one that stands apart before
                # a word (... 이 통장: "this"), one without which no number could be read, and one that leaves a
                # phone or card number where the digits with it make none. 칠팔구공 일이 통장 and 공일공 구팔칠육
                # 오사삼이 end in a two.
                without, with_it = _digits_of(span[:-1].rstrip()) or "", _digits_of(span) or ""
                # 육오사이예요: after a digit said without a final consonant (사) the copula is 예요 alone, so 이 is a two
                copula_after = len(span) < 2 or not _open_syllable(span[-2])
                # 공일공 구팔칠육 오사삼이요: a last group of four with the 이 makes a phone said 3-4-4, the way
                # numbers are said; 공일공 일이삼 사오육칠이요 (a last group of five) has lost a digit and 이 is the copula
                phone_said = _is_phone(with_it) and len(_digits_of(re.split(_JOIN, span)[-1]) or "") == 4
                if (text[m.end():].startswith(_COPULA_ENDINGS) and copula_after and not phone_said
                        or (len(span) >= 2 and span[-2] == " " and re.match(r"\s+[가-힣]", text[m.end():]))
                        or len(with_it) not in (10, 11, 12, 13, 14, 16)
                        or (len(without) == 16 or _is_phone(without)) and not _is_phone(with_it)):
                    span = span[:-1].rstrip()
            digits = _digits_of(span)
            entity = _identifier(digits, span, m.start()) if digits is not None else None
            if entity is not None and not any(e.start <= m.start() < e.end for e in out):
                out.append(entity)
        return out

    def _numbers(self, text: str) -> list[Entity]:
        out = []
        for m in _NUMBER.finditer(text):
            span, start = m.group().strip(), m.start()
            # 이천 이천만 원, 오십 오십만: a caller who starts a number again; the part said first is no addend
            parts = list(re.finditer(r"\S+", span))
            restart = max((i + 1 for i in range(len(parts) - 1) if parts[i + 1].group().startswith(parts[i].group())
                           and len(parts[i + 1].group()) > len(parts[i].group())), default=0)  # not 일 일로: the 1st
            if restart:
                span, start = span[parts[restart].start():], start + parts[restart].start()
            end = start + len(span)
            if len(span) >= 2 and span.endswith("이") and text.startswith(_AFTER_COPULA, end):
                span, end = span[:-1], end - 1  # 십오일이요, 이십오 일이라서: the copula's 이, not a two
            elif (len(span) >= 3 and span.endswith("일이") and not re.match(r"[가-힣]", text[end:end + 1])
                  and 1 <= (parse_korean_number(span[:-2]) or 0) <= 31):
                span, end = span[:-1], end - 1  # 20일이 낫겠어요, 이십 일이 좋아요: the day and its subject particle
            after = text[end:end + 4].lstrip()
            counter = next((c for c in _COUNTERS if after.startswith(c)), None)
            is_digits = span[0].isdigit()
            if len(span) >= 2 and span.endswith("일") and counter is None:
                # 십오일: the last 일 is the day counter (15th), not the digit one.
                span, counter = span[:-1], "일"
                end -= 1
            # Hangul numeral syllables are also ordinary syllables (이사, 오늘): require a counter
            # after them, or a unit inside them (삼만, 오십).
            if not is_digits and counter is None and not any(u in span for u in (*SMALL_UNITS, *BIG_UNITS)):
                continue
            if (not is_digits and len(span) == 1 and counter != "원"
                    and (counter is None or span not in DIGIT_WORDS and (span, counter) != ("십", "일"))):
                continue  # a lone 조 or 만 is a syllable of a word (조회, 만나다), but 만 원 is money and 십일로 the 10th
            if span == "이" and counter == "번" and text[end:end + 1] == "번":
                continue  # 이번 (달, 에) is "this", not "number two"
            value = parse_korean_number(span)
            if value is None:
                continue
            if counter == "원":
                end = text.index("원", end) + 1
                out.append(Entity("amount", value, text[start:end], start, end))
            elif counter == "일" and 1 <= value <= 31 and not _DURATION.match(text, text.index("일", end) + 1):
                end = text.index("일", end) + 1
                out.append(Entity("day_of_month", value, text[start:end], start, end))
            else:
                out.append(Entity("number", value, span, start, start + len(span)))
        return out

    def _dates(self, text: str, today: dt.date) -> list[Entity]:
        out = []
        relative = {"오늘": 0, "내일": 1, "모레": 2, "어제": -1, "그저께": -2}
        for word, days in relative.items():
            for m in re.finditer(word, text):
                out.append(Entity("date", (today + dt.timedelta(days=days)).isoformat(), word, m.start(), m.end()))
        month_day = re.compile(rf"([\d{_NUMERAL_CHARS}]+)\s?월\s?([\d{_NUMERAL_CHARS}]+)\s?일")
        for m in month_day.finditer(text):
            month, day = parse_korean_number(m.group(1)), parse_korean_number(m.group(2))
            date = _safe_date(today.year, month, day)
            if date:
                if date < today:
                    date = _safe_date(today.year + 1, month, day) or date
                out.append(Entity("date", date.isoformat(), m.group(), m.start(), m.end()))
        week = re.compile(rf"(이번|다음|담)\s?주\s?([{WEEKDAYS}])요일")
        for m in week.finditer(text):
            offset = 7 if m.group(1) in ("다음", "담") else 0
            monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=offset)
            date = monday + dt.timedelta(days=WEEKDAYS.index(m.group(2)))
            out.append(Entity("date", date.isoformat(), m.group(), m.start(), m.end()))
        return [e for e in out if not _overlaps(e, [(o.start, o.end) for o in out if o is not e and
                                                     (o.end - o.start) > (e.end - e.start)])]


def _safe_date(year: int, month: int | None, day: int | None) -> dt.date | None:
    try:
        return dt.date(year, month, day) if month and day else None
    except ValueError:
        return None


def _overlaps(entity: Entity, spans: list[tuple[int, int]]) -> bool:
    return any(entity.start < end and start < entity.end for start, end in spans)


def mask(text: str, entities: list[Entity] | tuple[Entity, ...]) -> str:
    """``text`` with every phone, card and account number replaced by its masked form: what logs may show."""
    for e in sorted((e for e in entities if e.masked), key=lambda e: e.start, reverse=True):
        text = text[:e.start] + e.masked + text[e.end:]
    return text
