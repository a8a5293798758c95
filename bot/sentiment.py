"""Anger and sentiment of customer messages: a small trained head over e5 plus explicit chat signals.

The head is a multinomial logistic regression over the multilingual-e5-small query embedding
(the vector the chat path already computes), giving angry / negative / neutral / positive
probabilities. Text models miss much of what makes a support message angry, so the anger
score combines the head's anger logit with explicit chat signals: ``!!!``/``؟؟؟``, SHOUTING,
Persian and English insults and swearing, "third time"/«بار سوم», "useless"/«افتضاح»,
threats to complain publicly or leave, self-declared anger ("I'm fuming"/«عصبانی‌ام»), and
cues of other emotions (sadness, fear, hatred) that lower the score. Support messages name
problems calmly all the time, so the cues read context: a theft or fraud reported («گوشی‌ام را
دزدیده‌اند», "a scam text") is not an insult, a hedged word ("a bit annoying") is not anger, a
demand counts only in a statement, and Finglish is also read in Persian script. Combiner weights are fitted
on held-out predictions; each language has its own operating point (English: bias calibrated so
that 0.5 is the F1-best threshold on tweets; Persian: the head's logit scaled down and the bias
lowered, because on real Persian posts the head over-reads complaints as anger; Finglish takes
the Persian point).
See ``scripts/train_sentiment.py`` and docs/sentiment.md; nothing here loads a model at import time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from indexer.textnorm import ZWNJ, detect_lang, normalize
from indexer.transliteration import finglish_to_persian, is_finglish

logger = logging.getLogger(__name__)

LABELS: tuple[str, ...] = ("angry", "negative", "neutral", "positive")
"""Head classes, in the row order of the stored weights."""

MODEL_DIR = Path(__file__).resolve().parent / "models"
HEAD_FILE = "sentiment_head.npz"
META_FILE = "sentiment_head.json"

MAX_EMBED_CHARS = 1000
"""Longer messages are cut to their head and tail before embedding (e5 reads 512 tokens at most)."""


@dataclass(frozen=True)
class Sentiment:
    """The sentiment of one message; ``label == "angry"`` exactly when ``angry`` is true."""

    label: str  # "angry" | "negative" | "neutral" | "positive"
    angry: bool
    score: float  # probability-like anger score in [0, 1]

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict with the score rounded to 4 decimals."""
        return {"label": self.label, "angry": self.angry, "score": round(self.score, 4)}


@runtime_checkable
class SentimentScorer(Protocol):
    """Scores a customer message; ``vector`` is its e5 query embedding when the caller has one."""

    name: str

    def score(self, text: str, vector: np.ndarray | None = None) -> Sentiment:
        """Return the sentiment of ``text`` (never raises on a ``str``)."""
        ...


def truncate_for_embedding(text: str) -> str:
    """Strip ``text`` and keep the first 600 and last 400 characters of a long one.

    The tail is kept because the closing lines of a long complaint often carry the anger.
    """
    text = text.strip()
    if len(text) <= MAX_EMBED_CHARS:
        return text
    return text[:600] + " … " + text[-400:]


# --- chat signals ------------------------------------------------------------------------

# Persian entries are matched as substrings of the normalised text with spaces and ZWNJs
# removed, so «بی شعور», «بی‌شعور» and «بیشعور» all match; entries are normalised the same way.
# Very short or ambiguous words («خر», «گاو», «عوضی» = "the wrong one") are left out on purpose.
# Entries that would match inside other words or across a word gap in the squashed text («ریدی» in
# «خریدی», «ننگ» in «این نگاه», «رو مخ» in «رو مخفی», «لجم») are matched as whole words with the
# English patterns below instead.
_FA_INSULTS = (
    "احمق نفهم بی‌شعور کثافت لعنت آشغال مزخرف بی‌شرف کلاهبردار دروغگو بی‌عرضه نالایق خاک‌توسر خاک‌برسر "
    "گوربابا مرده‌شور گندزدین گندزدید بی‌ادب وقیح پررو عوضیا حرومزاده حرامزاده کصافط کسخل "
    "کسکش جاکش بی‌غیرت الاغ گوساله حرف‌مفت بی‌وجدان بی‌همه‌چیز شیاد چرت‌وپرت کسشر کس‌شعر زرنزن زرمیزنن "
    "مرتیکه زنیکه پفیوز پدرسوخته بی‌ناموس گمشو گمشید خفه‌شو خفه‌شید زهرمار بیشرف تخمی لنتی "
    "بی‌تربیت بی‌لیاقت نامرد مفت‌خور گستاخ بی‌حیا عقده‌ای لجن دیوث ظالم رانت‌خوار اختلاسگر مردم‌آزار بی‌شرم "
    "خائن مزدور وطن‌فروش گوه‌خوری گوه‌خوردی کوفتت شعورندار بی‌عقل ابله کودن نمک‌نشناس چشم‌سفید زورگو "
    "پست‌فطرت رذل بی‌شخصیت"
)
_FA_HARSH = (
    "افتضاح بی‌فایده به‌دردنخور بدردنخور خجالت‌نمی‌کشید شرم‌آور مسخره غیرقابل‌قبول فاجعه "
    "بی‌مسئولیت مسئولیت‌ناپذیر کفرم اعصاب شورشو شورش‌را بسه‌دیگه دیگه‌بسه واقعاکه حالم‌بهم حالم‌ازاین سرکارگذاشت "
    "توهین بی‌انصاف بی‌عرضگی وقت‌آدمو اعتمادندارم آدم‌حساب بدترین غیرقابل‌تحمل قابل‌تحمل‌نیست به‌چه‌حقی "
    "بی‌ملاحظه پدرمردمو مسخره‌بازی غلط‌کردی چه‌غلطی گندزدی گندزدن گندزدند حق‌کشی روزروشن پدرمونو دزدی‌آشکار "
    "ولمون‌کنید دست‌ازسرمون خجالت‌بکش شرم‌کنید بیچارمون بدبختمون پدرتونو گندش به‌درک چرندیات عجب‌رویی "
    "حالیش‌نیست حالیتون‌نیست تف‌به‌این تف‌تواین گورتونوگم بس‌کنید"
)
_FA_REPEAT = (
    "بارسوم بارچهارم بارپنجم بارچندم سومین‌بار سومین‌مرتبه چهارمین‌بار چندمین‌بار صدبار هزاربار "
    "بازم‌تاخیر چندبارباید هربار دفعه‌سوم"
)
_FA_THREAT = (
    "شکایت سازمان‌حمایت مراجع‌قانونی اینستاگراممی‌ذارم اینستاگراممیذارم اینستامیذارم توییترمیذارم "
    "همه‌جامیگم همه‌جامی‌گم همه‌جاپخش دفعه‌آخره آخرین‌باره آخرین‌باریه هیچوقت‌ازشما هیچوقت‌ازاین هیچ‌وقت‌ازاین "
    "دیگه‌ازشما دیگه‌ازتون خریدنمی‌کنم وکیل حقمومی‌گیرم عمرادیگه اول‌وآخرم زنگ‌میزنم‌پلیس"
)
_FA_DEMAND = "همین‌الان مدیرتون مدیرتان"  # «فوراً»/«سریعاً» would match across word gaps in the squashed text
# Self-declared anger («عصبانی‌ام», "I'm fuming"): the most reliable cue in social posts. Bare «خشم»
# is left out because the squashed text would match it inside «ببخشم».
_FA_ANGER_WORDS = (
    "عصبانی عصبانیت عصبی خشمگین خشممو کلافه‌ام کلافم کلافه‌شدم شاکی‌ام شاکیم حرصم حرص‌درار حرص‌خوردم "
    "حرصی‌ام حرصمو کفری دادم‌درومد خونم‌به‌جوش اعصابم اعصاب‌خردکن "
    "اعصابمو دیوونم‌کرد دیوانه‌ام‌کرد فحش منفجرمیشم طاقتم‌تموم صبرم‌لبریز صبرم‌تموم "
    "ازشون‌نگذره ازتون‌نگذره ازش‌نگذره نمی‌گذرم حلالتون‌نمی‌کنم حلالش‌نمی‌کنم حلال‌نمی‌کنم نفرین "
    "خیرنبینی خیرنبینن ذلیل‌شی آه‌مردم قاطی‌کردم قاطی‌میکنم ذله‌شدم ذله‌کرد دادوبیداد دادوهوار به‌ستوه "
    "جوش‌آورد کاردبزنی خونم‌درنمیاد خون‌خونمو دادزدم سرم‌دادزد سرم‌دادزدن روانیم‌کرد ازکوره‌دررفت"
)
# Emotions that are *not* anger: sadness and grief, fear and worry, hatred and disgust. They lower
# the score (sign fixed ≤ 0 like thanks): people label a sad, scared or disgusted post as such even
# when it complains. «متنفرم» and «نفرت» live here, not among the anger words, for that reason.
_FA_OTHER_EMOTION = (
    "غمگین ناراحتم دلم‌گرفت دلم‌تنگ دلتنگ غصه گریه اشکم بغض افسرده ناامید تنهام روحش‌شاد خدابیامرز تسلیت "
    "داغدار دلم‌سوخت دلم‌میسوزه میترسم می‌ترسم ترسیدم ترسناک وحشت نگرانم استرس دلشوره اضطراب دلهره "
    "متنفرم نفرت بیزار چندش منزجر انزجار حالم‌بدشد دلم‌آشوب افسوس حسرت دلم‌خون دلم‌شکست غم‌انگیز دلم‌ریش "
    "خوشحالم خوشحالیم خوشحال‌شدم شادم تبریک مبارک عاشقتون عاشقشم دوستت‌دارم دوستتون‌دارم خداروشکر "
    "لذت‌بردم ذوق‌کردم ذوق‌زده هیجان‌زده"
)
_FA_THANKS = "ممنون مرسی سپاس متشکر دستتون‌دردنکنه دمتون‌گرم خداقوت عالی ایول لطف‌کردید"

# English and Finglish patterns run on the normalised (case-folded) text with word boundaries.
_EN_INSULTS = (
    r"idiots?|stupid|morons?|clowns?|crooks?|thie(?:f|ves)|liars?|incompetent|pathetic|garbage|trash|crap|"
    r"shit\w*|bullshit|damn|hell|f\*+|fuck\w*|wtf|disgusting|bastards?|scammers?|jerks?|"
    r"ahmagh|bi ?shoor|kesafat|dozd(?:a|ha|in|ie|iye)?|kolah ?bardar\w*|doroughgoo\w*|ashghal|mozakhraf|"
    r"khak (?:too|to|tu|bar) sar\w*|"
    # «دزد» as a word and its accusing forms («دزدا», «دزدین», «این دزدیه»), never inside «دزدیده‌اند»
    # or «دزدیدن» (a theft reported); «دزدی» alone is also the noun in «بیمه‌ی دزدی» and is left out.
    r"رید(?:ی|ید|ین)|دزد(?:ا|ای|ها|های|هایی|ن|ین|یه|یست)?"
)
_EN_HARSH = (
    r"useless|ridiculous|unacceptable|unbelievable|disgrace\w*|scam|joke|sick (?:and tired|of)|shame on|"
    r"worst|enough|waste of (?:time|money)|are you kidding|outrageous|absurd|awful|terrible|horrible|nonsense|"
    r"afteza[h7]\w*|bi ?fayde|khejalat bekeshid|maskhare\w*|ننگ\w*"
)
_EN_REPEAT = (
    r"(?:third|fourth|fifth|\d+(?:st|nd|rd|th)) time|(?:three|four|five|six|ten|\d+) times|once again|"
    r"every (?:single )?time|yet again|how many times|bare (?:sevvom|sevom|chaharom)\w*"
)
_EN_THREAT = (
    r"report (?:you|this)|lawyer|sue you|consumer protection|dispute the charge|chargeback|"
    r"(?:post|tell|warn) \w* ?(?:everyone|everywhere|instagram|twitter)|leave a review|never (?:again|buy|order|shop)|"
    r"last time i|cancel my account|shekayat\w*|kharid nemikonam"
)
# Demands count in statements only (see chat_signals): "if I cancel right now, what is the fee?" asks.
# "Right now", "today" and the like demand only after a verb that asks for something ("refund me
# right now", "I need it today"): "I'm at the station right now" and "summer ends today." do not.
# "real person" is not here: asking for a person is a handoff reason of its own, not a tone.
_EN_DEMAND = (
    r"(?:want|need|demand|give|send|refund|return|fix|do|call|cancel|unblock|sort|pay|deliver|reply|answer|respond|"
    r"get|expect|activate|restore|release)\b[^.!?\n]{0,40}?\b(?:right now|immediately|asap|today)|"
    r"(?:your|the|a|ur) manager|now(?=\s*!)|(?:همین ?)?الان(?=\s*!)"
)
_EN_ANGER_WORDS = (
    r"angry|angrier|anger|angered|furious|fury|fuming|fumes?|rage|raging|enraged|livid|irate|outrage\w*|"
    r"infuriat\w*|annoy\w*|irritat\w*|frustrat\w*|pissed|offended|seething|hate(?!\s+to\b)|hated|hatred|indignant|boiling|"
    r"lost my temper|losing my (?:patience|temper|mind)|fed up|up to here|ticked off|mad at|last straw|"
    r"patience (?:has |is )?(?:\w+ )?(?:run|ran|wearing) (?:out|thin)|about to lose it|(?:so|i'm|i am) done with|"
    r"revenge|vengeance|vengeful|wrath\w*|insult\w*|provok\w*|bull(?:y|ying|ied|ies)|racis[mt]\w*|threaten\w*|"
    r"resent\w*|offen[cs]e|offensive|rude\w*|ugh+|grr+|"
    # Persian words that need word boundaries: bare «خشم» sits inside «ببخشم» in the squashed text.
    r"خشم\w*|رو ?مخ(?:ه|م|مه|می|ید|ین|مونه)?|لج(?:م|مو|مون)"
)
_EN_OTHER_EMOTION = (
    r"sad|sadness|saddest|depress\w*|heartbr\w*|crying|cried|tears|lonely|grie(?:f|ving)|mourn\w*|"
    r"miss (?:you|him|her|them|my)|"
    r"scared|afraid|fear(?:ful)?|terrified|anxious|anxiety|nervous|worried|worry(?:ing)?|panic\w*|nightmares?|"
    r"happy|so glad|excited|congrat\w*|blessed|proud of"
)
_EN_THANKS = (
    r"thanks?|thank you|appreciate\w*|great|awesome|amazing|perfect|excellent|love|merci|mamnoon\w*|dametoon garm"
)

# Capitalised tokens that are not shouting.
_ACRONYMS = frozenset(
    "OK USA UK VAT SMS ID PIN ATM URL FAQ PDF CEO TV USB GPS IBAN SIM API APP DHL UPS EMS IOS".split()
)
_BANG_RUN_RE = re.compile("[!?\u061f]{2,}")
_CAPS_WORD_RE = re.compile(r"\b[A-Z]{3,}\b")
_TAG_RE = re.compile(r"[#@]\w+")
_LATIN_LETTER_RE = re.compile("[A-Za-z]")


@dataclass(frozen=True)
class ChatSignals:
    """Explicit anger cues of one message, each in [0, 1] (see :data:`SIGNAL_NAMES`)."""

    exclaim: float
    shouting: float
    insult: float
    harsh: float
    repeat: float
    threat: float
    demand: float
    thanks: float
    anger_word: float
    other_emotion: float
    hedged: float

    def as_array(self) -> np.ndarray:
        """Return the signals in :data:`SIGNAL_NAMES` order as float32."""
        return np.array([getattr(self, name) for name in SIGNAL_NAMES], dtype=np.float32)


SIGNAL_NAMES: tuple[str, ...] = (
    "exclaim",
    "shouting",
    "insult",
    "harsh",
    "repeat",
    "threat",
    "demand",
    "thanks",
    "anger_word",
    "other_emotion",
    "hedged",
)


def _squash(key: str) -> str:
    """Return the matching form of a Persian lexicon entry or text: normalised, no spaces or ZWNJs."""
    return normalize(key).replace(ZWNJ, "").replace(" ", "")


@lru_cache(maxsize=1)
def _lexicons() -> dict[str, tuple[tuple[str, ...], re.Pattern[str]]]:
    """Build the per-signal lexicons once (normalising the Persian entries needs hazm)."""

    def fa(words: str) -> tuple[str, ...]:
        return tuple(sorted({_squash(w) for w in words.split()}))

    def en(alternatives: str) -> re.Pattern[str]:
        return re.compile(rf"(?<![\w*])(?:{alternatives})(?![\w])")

    return {
        "insult": (fa(_FA_INSULTS), en(_EN_INSULTS)),
        "harsh": (fa(_FA_HARSH), en(_EN_HARSH)),
        "repeat": (fa(_FA_REPEAT), en(_EN_REPEAT)),
        "threat": (fa(_FA_THREAT), en(_EN_THREAT)),
        "demand": (fa(_FA_DEMAND), en(_EN_DEMAND)),
        "thanks": (fa(_FA_THANKS), en(_EN_THANKS)),
        "anger_word": (fa(_FA_ANGER_WORDS), en(_EN_ANGER_WORDS)),
        "other_emotion": (fa(_FA_OTHER_EMOTION), en(_EN_OTHER_EMOTION)),
        "hedge": (fa(_FA_HEDGES), _EN_HEDGE_RE),
    }


# Phrases that name a fraud being reported («پیامک کلاهبرداری», "a scam call"), not an accusation;
# removed before the lexicons are matched.
_REPORTED_FRAUD_RE = re.compile(
    r"\bscam(?:mer)?s? (?:calls?|callers?|texts?|sms|messages?|e ?mails?|links?|sites?|websites?|alerts?|pages?)\b|"
    r"\breport(?:ing|ed)? (?:a |the |this |an? )?(?:scam|fraud)\w*|\bphishing\b|"
    "(?:پیامک|تماس|ایمیل|لینک|سایت|صفحه|شماره|پیام)(?:\u200c?(?:های|ها))? ?کلاهبرداری|"
    "کلاهبرداری (?:تلفنی|اینترنتی|پیامکی|سایبری)|گزارش ?کلاهبرداری"
)
# A hedge in front of an anger word makes it mild ("a bit annoying", «یه کم کلافه شدم»): not anger.
_EN_HEDGE_RE = re.compile(
    r"(?:\ba (?:little |tiny )?bit|\ba little|\bslightly|\bkind of|\bkinda|\bsort of|\bsomewhat|\ba tad|"
    r"\bmildly|\ba touch)\s+(?:\w+\s+)?$"
)
_FA_HEDGES = "یه‌کم یکم کمی یه‌کمی یه‌خورده یه‌ذره یه‌مقدار یک‌مقدار یک‌کم"
_QUESTION_END_RE = re.compile("[?\u061f]+$")
_SENTENCE_RE = re.compile("[^.!?\u061f\n]*(?:[.!?\u061f]+|\n|$)")


def _statements(norm: str) -> str:
    """Return the sentences of ``norm`` that do not end in a question mark alone."""
    return " ".join(
        sentence for sentence in _SENTENCE_RE.findall(norm) if not _QUESTION_END_RE.search(sentence.strip())
    )


def _shouting(text: str) -> float:
    """Return 1 for a mostly upper-case Latin message, else a quarter for each SHOUTED word (max 0.5).

    A whole message in capitals is the cue (6 of 8 such TweetEval train tweets are angry, 11 of 13
    own support messages); one or two capitalised words are mostly names and titles in tweets
    (120 angry of 226), so they count for less.
    """
    letters = _LATIN_LETTER_RE.findall(text)
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) >= 0.7:
        return 1.0
    # Hashtags and handles (#EXO, @NYC) are names, not shouting.
    words = [w for w in _CAPS_WORD_RE.findall(_TAG_RE.sub(" ", text)) if w not in _ACRONYMS]
    return min(len(words), 2) / 4


def chat_signals(text: str) -> ChatSignals:
    """Return the explicit anger cues of ``text`` (raw customer text; normalised here).

    Finglish is also read in Persian script (:func:`indexer.transliteration.finglish_to_persian`,
    as the chat path searches it) and each cue takes the larger of the two readings: the Persian
    lexicons are far larger than the handful of Finglish spellings («sharmavare» is «شرم‌آور»).
    A reported fraud («پیامک کلاهبرداری», "a scam text") is not an insult; an anger word after a
    hedge ("a bit annoying", «یه کم کلافه شدم») does not count; demands count only in sentences
    that are not questions ("if I cancel right now, what is the fee?" asks, "refund me right now!"
    demands).
    """
    counts = _lexicon_counts(text)
    if is_finglish(text):
        reading = _lexicon_counts(finglish_to_persian(text))
        counts = {name: max(value, reading[name]) for name, value in counts.items()}
    bangs = _BANG_RUN_RE.findall(text)
    # A single "?!" is emphasis; three marks or two separate runs are the cue.
    exclaim = min(sum(1 if len(run) >= 3 else 0.5 for run in bangs), 2) / 2
    return ChatSignals(exclaim=exclaim, shouting=_shouting(text), **counts)


def _lexicon_counts(text: str) -> dict[str, float]:
    """Return the lexicon cues of ``text`` (every signal but ``exclaim`` and ``shouting``), each in [0, 1]."""
    norm = _REPORTED_FRAUD_RE.sub(" ", normalize(text))
    squashed = norm.replace(ZWNJ, "").replace(" ", "")
    statements = _statements(norm)
    lexicons = _lexicons()
    hedges = lexicons["hedge"][0]
    counts: dict[str, float] = {}
    for name, (fa_words, en_pattern) in lexicons.items():
        if name == "hedge":
            continue
        if name == "demand":
            fa_text = statements.replace(ZWNJ, "").replace(" ", "")
            hits = sum(1 for w in fa_words if w in fa_text) + len(en_pattern.findall(statements))
        elif name == "anger_word":
            fa_found = [w for w in fa_words if w in squashed]
            en_found = list(en_pattern.finditer(norm))
            hits = sum(1 for w in fa_found if _unhedged_in(w, squashed, hedges))
            hits += sum(1 for m in en_found if not _EN_HEDGE_RE.search(norm[: m.start()]))
            # Anger words said mildly ("a bit annoying"): a cue of their own, which lowers the score.
            counts["hedged"] = min(len(fa_found) + len(en_found) - hits, 2) / 2
        else:
            hits = sum(1 for w in fa_words if w in squashed) + len(en_pattern.findall(norm))
        counts[name] = min(hits, 2) / 2
    return counts


def _unhedged_in(word: str, squashed: str, hedges: tuple[str, ...]) -> bool:
    """Return whether ``word`` occurs in ``squashed`` at least once without a hedge right before it."""
    start = squashed.find(word)
    while start >= 0:
        if not squashed[:start].endswith(hedges):
            return True
        start = squashed.find(word, start + 1)
    return False


def _sigmoid(x: float) -> float:
    """Numerically safe logistic function."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


# --- the fake -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeSentimentScorer:
    """Deterministic scorer without a model, for unit tests of other modules.

    The anger score is a fixed logistic function of :func:`chat_signals`; the label falls back
    to "positive" for thanks, "negative" for a few complaint words, else "neutral". ``vector``
    is ignored.
    """

    threshold: float = 0.5
    name: str = "fake-sentiment"

    _WEIGHTS = {
        "exclaim": 2.0,
        "shouting": 2.0,
        "insult": 4.0,
        "harsh": 3.0,
        "repeat": 2.0,
        "threat": 3.0,
        "demand": 1.0,
        "anger_word": 3.0,
    }
    _NEGATIVE = re.compile(
        r"\b(?:unfortunately|sadly|late|broken|missing|wrong)\b|متاسفانه|متأسفانه|خراب|دیر|اشتباه|نرسیده"
    )

    def score(self, text: str, vector: np.ndarray | None = None) -> Sentiment:
        """Score ``text`` from its chat signals only."""
        signals = chat_signals(text)
        logit = -1.5 + sum(weight * getattr(signals, key) for key, weight in self._WEIGHTS.items())
        logit -= 3.0 * signals.thanks
        anger = _sigmoid(logit)
        if anger >= self.threshold:
            label = "angry"
        elif signals.thanks:
            label = "positive"
        elif self._NEGATIVE.search(normalize(text)):
            label = "negative"
        else:
            label = "neutral"
        return Sentiment(label=label, angry=label == "angry", score=anger)


# --- the trained head ---------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentHead:
    """Weights of the trained head and its combiner, as stored in ``bot/models``."""

    weights: np.ndarray  # (len(labels), dim) multinomial logistic regression
    bias: np.ndarray  # (len(labels),)
    lang_means: dict[str, np.ndarray]  # per-language mean embedding removed before the head
    combiner: np.ndarray  # weights of [anger logit, *signals]
    combiner_bias: float
    # Per-language operating point ("en" / "fa", see _lang_of): the head's anger logit is
    # multiplied by lang_head_scale and lang_offset is added to the combiner bias (missing: 1, 0).
    lang_head_scale: dict[str, float] = field(default_factory=dict)
    lang_offset: dict[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] = LABELS
    signal_names: tuple[str, ...] = SIGNAL_NAMES
    metadata: dict = field(default_factory=dict)

    @property
    def model_name(self) -> str:
        """Embedding model the head was trained on."""
        return str(self.metadata.get("embedding_model", ""))

    def features(self, vector: np.ndarray, lang: str) -> np.ndarray:
        """Centre ``vector`` on its language's mean and re-normalise (helps English→Persian transfer)."""
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        mean = self.lang_means.get(lang)
        if mean is not None:
            vec = vec - mean
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Return class probabilities (``labels`` order) for centred features, shape ``(..., n_labels)``."""
        logits = features @ self.weights.T + self.bias
        logits = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=-1, keepdims=True)

    def anger_score(self, probabilities: np.ndarray, signals: np.ndarray, lang: str = "en") -> float:
        """Combine the head's anger logit with the chat signals into a score in [0, 1].

        ``lang`` selects the per-language head scale and bias offset (see ``lang_head_scale``).
        """
        p = float(np.clip(probabilities[self.labels.index("angry")], 1e-6, 1 - 1e-6))
        logit = math.log(p / (1 - p)) * self.lang_head_scale.get(lang, 1.0)
        inputs = np.concatenate([[logit], signals])
        bias = self.combiner_bias + self.lang_offset.get(lang, 0.0)
        return _sigmoid(float(inputs @ self.combiner) + bias)

    def save(self, folder: Path, metadata: dict) -> None:
        """Write ``sentiment_head.npz`` and ``sentiment_head.json`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        langs = sorted(self.lang_means)
        dim = self.weights.shape[1]
        adj_langs = sorted(set(self.lang_head_scale) | set(self.lang_offset))
        adjust = [[self.lang_head_scale.get(k, 1.0), self.lang_offset.get(k, 0.0)] for k in adj_langs]
        np.savez_compressed(
            folder / HEAD_FILE,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            lang_names=np.array(langs),
            lang_means=np.array([self.lang_means[k] for k in langs], dtype=np.float32).reshape(len(langs), dim),
            combiner=self.combiner.astype(np.float32),
            combiner_bias=np.float32(self.combiner_bias),
            adjust_langs=np.array(adj_langs),
            adjust=np.array(adjust, dtype=np.float32).reshape(len(adj_langs), 2),
        )
        meta = {**metadata, "labels": list(self.labels), "signals": list(self.signal_names)}
        meta["weights_sha256"] = hashlib.sha256((folder / HEAD_FILE).read_bytes()).hexdigest()
        (folder / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path = MODEL_DIR) -> SentimentHead:
        """Read a head written by :meth:`save`; raise ``FileNotFoundError`` naming the fix when absent."""
        npz, meta_path = folder / HEAD_FILE, folder / META_FILE
        missing = [str(p) for p in (npz, meta_path) if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"sentiment head missing: {', '.join(missing)}; train it with `python scripts/train_sentiment.py`"
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if tuple(meta.get("signals", ())) != SIGNAL_NAMES or tuple(meta.get("labels", ())) != LABELS:
            raise ValueError(
                f"{meta_path} was trained with other labels/signals; retrain with scripts/train_sentiment.py"
            )
        with np.load(npz) as data:
            langs = [str(x) for x in data["lang_names"]]
            # Heads written before the per-language operating point have no "adjust" arrays.
            adj_langs = [str(x) for x in data["adjust_langs"]] if "adjust_langs" in data else []
            adjust = data["adjust"] if adj_langs else np.zeros((0, 2), np.float32)
            return cls(
                weights=data["weights"],
                bias=data["bias"],
                lang_means=dict(zip(langs, data["lang_means"], strict=True)),
                combiner=data["combiner"],
                combiner_bias=float(data["combiner_bias"]),
                lang_head_scale={k: float(row[0]) for k, row in zip(adj_langs, adjust, strict=True)},
                lang_offset={k: float(row[1]) for k, row in zip(adj_langs, adjust, strict=True)},
                metadata=meta,
            )


def _lang_of(text: str) -> str:
    """Return the head's language key: "fa" for Persian, in Persian script or in Latin letters, else "en".

    Finglish takes the Persian operating point: the head reads calm Finglish questions as angry
    about as often as it reads Persian complaints so (e5 has seen little of either), and the
    Persian point leans on the explicit cues instead.
    """
    return "fa" if detect_lang(text) == "fa" or is_finglish(text) else "en"


class HeadSentimentScorer:
    """The real scorer: e5 query embedding → trained head → combined with chat signals.

    ``embed_query`` turns one text into its 384-d L2-normalised e5 query vector; it is called
    only when :meth:`score` gets no ``vector``. Construction does no model work.
    """

    def __init__(self, head: SentimentHead, embed_query: Callable[[str], np.ndarray], threshold: float = 0.5) -> None:
        """Keep the head, the embed callable and the anger threshold."""
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"anger threshold must be in [0, 1], got {threshold!r}")
        self.head = head
        self.threshold = threshold
        self.name = f"e5-head+signals:{head.metadata.get('trained', 'unknown')}"
        self._embed_query = embed_query

    def score(self, text: str, vector: np.ndarray | None = None) -> Sentiment:
        """Return the sentiment of ``text``, using ``vector`` as its embedding when given."""
        if vector is None:
            vector = self._embed_query(truncate_for_embedding(text) or " ")
        lang = _lang_of(text)
        probs = self.head.probabilities(self.head.features(vector, lang))
        anger = self.head.anger_score(probs, chat_signals(text).as_array(), lang)
        if anger >= self.threshold:
            label = "angry"
        else:
            # The most likely of the calm classes, so label == "angry" exactly when angry is true.
            calm = [i for i, name in enumerate(self.head.labels) if name != "angry"]
            label = self.head.labels[max(calm, key=lambda i: probs[i])]
        return Sentiment(label=label, angry=label == "angry", score=anger)


def load_sentiment_scorer(
    embed_query: Callable[[str], np.ndarray], threshold: float, model_dir: Path | None = None
) -> SentimentScorer:
    """Load the shipped head (``bot/models/sentiment_head.*``) into a :class:`HeadSentimentScorer`."""
    head = SentimentHead.load(model_dir or MODEL_DIR)
    logger.info("Loaded sentiment head trained on %s (%s)", head.model_name, head.metadata.get("trained", "?"))
    return HeadSentimentScorer(head, embed_query, threshold)
