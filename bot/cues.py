"""Conversational cues the bot answers without the KB: greetings, thanks, goodbyes, "that didn't help".

Small talk is recognised only when the whole message is small talk ("hi", «ممنون، خیلی کمک کرد»);
"hi, how do I return a phone?" is a question with a greeting in front and goes to the KB.
Dissatisfaction ("that's not what I asked", «جواب سوالم نبود») marks the previous answer as a
failure, which the handoff policy counts.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indexer.textnorm import normalize

_GREETING = (
    r"hi|hello|hey|hiya|good (?:morning|afternoon|evening)|greetings|salam|slm|how are you(?: doing)?|"
    r"سلام|درود|وقت(?:تون|تان)? بخیر|صبح(?:تون|تان)? بخیر|عصر(?:تون|تان)? بخیر|شب(?:تون|تان)? بخیر|"
    r"سلام علیکم|خسته نباشید|خوبی(?:د|ن)?|چطوری(?:د|ن)?|حالتون خوبه"
)
_THANKS = (
    r"thanks?(?: a lot| so much| very much)?|thank you(?: so much| very much)?|thx|ty|cheers|great|perfect|ok(?:ay)?|"
    r"got it|that helps|that helped|mamnoon|merci|mersi|"
    r"ممنون(?:م)?|متشکر(?:م)?|مرسی|سپاس(?:گزارم)?|تشکر|دستت(?:ون)? درد نکنه|عالی(?: بود)?|خیلی ممنون|باشه|اوکی|حله|"
    r"کمک(?:م)? کرد|خیلی کمک کرد|لطف کردید"
)
_GOODBYE = r"bye|goodbye|see you|that'?s all|nothing else|خداحافظ|خدانگهدار|فعلا|همین بود|کار دیگه ای ندارم|نه ممنون"
_FILLER = r"[\s,.!?؟،;:)(\-_~*😊🙏👍❤️🌹]*"
_WORDS = r"(?:very|so|much|a lot|خیلی|زیاد|واقعا|جان|عزیز|دوست|بازارچه|bazaarcheh|there|all|everyone)"

_DISSATISFIED = re.compile(
    r"(?:not what i (?:asked|meant|wanted)|(?:that|this|it) (?:doesn'?t|does not|didn'?t|did not) "
    r"(?:help|answer|work)|(?:that|this)(?:'s| is) (?:not|wrong|useless|irrelevant)|wrong answer|"
    r"you (?:didn'?t|did not|don'?t) (?:understand|get it|answer)|no,? i (?:asked|meant|said)|"
    r"not helpful|unhelpful|irrelevant answer|still (?:doesn'?t|not) (?:work|help|answer)|"
    r"that'?s not (?:it|my question)|i already (?:read|tried) that|"
    r"جواب (?:سوالم|سوال من|من|سوالمو|سوالم رو) (?:نبود|نیست|ندادی|ندادید)|"
    r"منظورم (?:این )?نبود|منظورم چیز دیگه ای|متوجه (?:نشدی|نشدید|نمیشی|سوالم نشدی)|"
    r"(?:کمکی|کمک) نکرد|به دردم نخورد|ربطی (?:نداشت|نداره)|بی ربط|اشتباه (?:جواب دادی|جواب دادید|است|بود)|"
    r"جواب اشتباه|اینو (?:خوندم|خونده بودم)|این (?:جواب|پاسخ) (?:درست نیست|غلطه|غلط است)|"
    r"باز هم (?:جواب|پاسخ) (?:نداد|ندادی)|"
    r"نه،? (?:منظورم|سوالم|پرسیدم))"
)


@lru_cache(maxsize=1)
def _small_talk_patterns() -> dict[str, re.Pattern[str]]:
    """Whole-message patterns for each kind of small talk (compiled once)."""
    patterns = {}
    for kind, words in (("greeting", _GREETING), ("thanks", _THANKS), ("goodbye", _GOODBYE)):
        unit = rf"(?:{words}|{_WORDS})"
        patterns[kind] = re.compile(rf"^{_FILLER}(?:{unit}{_FILLER})+$")
    patterns["mixed"] = re.compile(rf"^{_FILLER}(?:(?:{_GREETING}|{_THANKS}|{_GOODBYE}|{_WORDS}){_FILLER})+$")
    return patterns


def _clean(text: str) -> str:
    return normalize(text).lower().replace("\u200c", " ")


def small_talk(text: str) -> str | None:
    """Return ``"greeting"``, ``"thanks"`` or ``"goodbye"`` when the whole message is that, else None."""
    cleaned = _clean(text)
    if not cleaned.strip() or len(cleaned) > 80:
        return None
    patterns = _small_talk_patterns()
    for kind in ("greeting", "thanks", "goodbye"):
        if patterns[kind].match(cleaned):
            return kind
    if patterns["mixed"].match(cleaned):
        return "thanks" if re.search(_THANKS, cleaned) else "greeting"
    return None


def dissatisfied(text: str) -> bool:
    """Return whether the customer says the previous answer did not help."""
    return bool(_DISSATISFIED.search(_clean(text)))
