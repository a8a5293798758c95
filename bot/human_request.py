"""Detect that a customer asks for a human agent (handoff reason ``requested``), in Persian and English.

Rules over normalised tokens, not one keyword: a request needs a *person* word («اپراتور»,
"agent", "real person", «یه آدم»…) in a requesting construction — a talk verb ("talk to",
«با … صحبت کنم»), a transfer verb ("connect me to", «وصلم کن»), a want/need verb ("can I get
an agent", «یه اپراتور می‌خوام»), a bare short message ("human please", «اپراتور لطفا»), a
rejection of the bot ("stop the bot", «ربات نه»), "is anyone there" («کسی هست؟»), a call-back
request ("call me back", «باهام تماس بگیرید», "behem zang bezanid"), a preference ("I'd rather
speak with a real person", «ترجیح می‌دم یه کارشناس بررسی کنه») or a person asked to handle the
case ("can a real person check my claim?", «لطفاً یه اپراتور انسانی جواب بده»). Finglish
("ba operator harf bezanam") works too.

Deliberately *not* requests, so the knowledge base answers them instead:

* negated or hypothetical asks: "I don't need an agent", «نیازی به اپراتور نیست», "do I have to
  talk to an agent to cancel?", "I'd rather use the app than talk to an agent" ("rather" alone
  is a preference, not a negation: "I'd rather speak with a person" asks for one);
* other meanings: "travel agent", "human resources", "in person", the mobile operator
  («اپراتور همراه اول»), backups («نسخه پشتیبان»), jobs ("become a delivery agent",
  «استخدام کارشناس»);
* questions about how or when to reach support — its phone number, e-mail, hours ("how can I
  contact support?", «ساعت کاری پشتیبانی چیه؟», "when can I talk to an agent?"): the KB has a
  contact article, and the hours are in the handoff reply anyway. Asking *how to talk* to a
  person ("how can I speak to a human?") is a request: contacting is a channel, talking is a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.textnorm import ZWNJ, normalize


@dataclass(frozen=True)
class HumanRequest:
    """Whether a message asks for a person, and which rule said so (``cue``; never customer text)."""

    requested: bool
    cue: str | None = None


_NO = HumanRequest(requested=False)

# --- lexicon (normalised spelling: ی/ک, ZWNJ read as a space, lower case) ----------------------


def _words(text: str) -> frozenset[str]:
    """Return the space-separated words of ``text`` as a set."""
    return frozenset(text.split())


def _fa_forms(stems: str, suffixes: str = "ها های ان ین تون تان اتون اتان هاتون هاتان ش") -> frozenset[str]:
    """Return Persian stems with the plural/possessive endings a chat message puts on them."""
    return frozenset(stem + suffix for stem in stems.split() for suffix in ("", *suffixes.split()))


# Strong: a person by itself ("agent", «اپراتور»). Weak: a person only after talk/transfer verbs.
_STRONG = (
    _words(
        "human humans agent agents representative representatives rep reps operator operators person "
        "customer_service helpdesk live_chat supervisor manager karshenas poshtiban adam ensan operatoor modir"
    )
    | _fa_forms("اپراتور اوپراتور اپرتور کارشناس پشتیبان آدم انسان همکار مسیول مسئول مدیر مشاور نماینده کارمند پرسنل")
    | _words("خدمات_مشتریان پشتیبان_آنلاین")
)
_WEAK = _words(
    "someone somebody anyone anybody people staff team support employee employees expert experts specialist "
    "specialists consultant consultants advisor advisors adviser advisers colleague colleagues department "
    "poshtibani kasi yeki nafar کسی یکی شخص فرد نفر بخش واحد"
) | _fa_forms("پشتیبانی")
_PERSON = _STRONG | _WEAK

_EN_TALK = _words("talk speak chat converse communicate discuss harf sohbat gap")
_EN_CONTACT = _words("contact reach")
_FA_TALK = _words("صحبت حرف گفتگو چت مکالمه گپ کاردارم")
_FA_CONTACT = _words("تماس ارتباط")
_TALK = _EN_TALK | _FA_TALK
_EN_TRANSFER = _words(
    "connect transfer forward redirect route put pass hand switch refer patch connecting transferring putting passing"
)
_EN_TRANSFERRED = _words("connected transferred forwarded redirected routed escalated")
_FA_TRANSFER_ANY = _words("وصل وصلم وصلمون vasl vaslam vasle vaslemoon")
_FA_TRANSFER_STRONG = _words("منتقل منتقلم انتقال ارجاع ارجاعم صدا montaghel")
_EN_REQUEST = _words("want need get give request prefer")
_FA_REQUEST = _words("خوام خواهم خوایم خواستم خواستیم لازم درخواست بدید بدین بده خواستار بیاد بیاید mikham mikhastam")
# A preference ("I'd rather …", «ترجیح می‌دم …»): a person after it is asked for, unless "than" puts it second.
_PREFER = _words("rather prefer preferably ترجیح tarjih")
# What a person is asked to do with the case ("have a human look at it", «یه کارشناس بررسی کنه»).
_EN_HANDLE = _words("look check review handle help answer respond reply call contact deal sort assist")
# In English an agent or operator "checking" may be a question about the service ("can an agent see my
# password?"): the handling rule takes only a person named as human.
_EN_HUMAN = _words("human humans person")
_EN_REAL = _words("real actual live proper genuine human")
_FA_HANDLE = _words(
    "بررسی رسیدگی پیگیری جواب پاسخ کمک زنگ تماس نگاه barresi residegi peygiri javab pasokh komak zang tamas negah"
)
# Subjunctive and imperative forms of «کردن»/«دادن»/«زدن»/«گرفتن», also in Finglish: a request, not a report.
_FA_ASK_VERB = _words(
    "کنه کنن کنید کنین بکنه بکنن بده بدن بدید بدین بزنه بزنن بزنید بزنین بگیره بگیرن بگیرید بگیرین بندازه "
    "kone konan konid konin bede bedan bedid bedin bezane bezanan bezanid bezanin begire begiran begirid begirin"
)
# Words that make a clause a request for the handling rule ("can", «میشه», "please", «لطفاً», "need", «باید»).
_ASKING = _words(
    "can could would please possible have need needs want let لطفا میشه میشود ممکنه امکان امکانش باید خوام "
    "خواهش خواهشا ممنون mishe lotfan age momkene bayad"
)
_BOT = _words(
    "bot bots robot robots chatbot chatbots machine ai automated automatic computer algorithm "
    "ربات رباتی روبات بات ماشین رباته رباتها"
)
_EN_BOT_REJECT = _words("stop quit enough skip bypass cancel end exit hate done tired sick fed")
_FA_BOT_REJECT = _words("بسه کافیه کافی خسته متنفرم خستم بیخیال")

# Tokens a bare request may consist of, besides person words ("human please", «یه اپراتور لطفا»).
_FILLER = _words(
    "please pls plz now asap a an the real live actual i want need give me get just hi hello hey ok okay "
    "can could may have talk speak chat to with urgent urgently immediately quickly only instead some one of "
    "your yes yeah sir madam customer service support sales "
    "lotfan lotfa salam ye yek vaghei vaghee online ba mikham "
    "لطفا سلام ممنون مرسی میشه ممکنه یه یک واقعی انسانی آنلاین انلاین زنده الان فوری سریع خواهش می کنم با به یکی "
    "از آقا خانم خانوم جان عزیز پشتیبانی فروش فقط همین حالا رو را خوام خواهم بده بدید"
)

_EN_NEGATORS = _words("not never without nobody instead")
_THAN_OPENERS = _words("rather other else better")  # "rather … than talk to an agent": the person comes second
_FA_NEGATORS = _words(
    "نیازی احتیاجی بدون نخوام نمیخوام niazi ehtiaji bedune nemikham nemikhaym nemikhaim nemikhastam nemikhad"
)
_FA_NEGATED_STEMS = ("خوا", "کن", "زن")  # «نمی‌خوام», «نمی‌کنم», «نمی‌زنم»; not «نمی‌تونم», «نمی‌شه»
_FA_PAST = _words("کردم کردیم کرده کردند کردید کردین زدم زدیم زده زدند زدید بودم شدم")

# Words before / after a person word that give it another meaning ("travel agent", "human resources").
_NOT_PERSON_BEFORE: dict[str, frozenset[str]] = {
    "agent": _words(
        "travel estate delivery insurance sales shipping customs booking courier field commission user secret "
        "free rental leasing ticket marketing purchasing buying property double cleaning chemical"
    ),
    "operator": _words(
        "tour network mobile phone cell cellular telecom sim machine forklift crane camera equipment radio "
        "satellite internet isp which what logical boolean bitwise"
    ),
    "person": _words("in per each every third first second contact delivery business"),
    "human": _words("non"),
    "manager": _words("password download file task package ads window device"),
    "rep": _words("gym"),
    "اپراتور": _words("کدوم کدام چه سیمکارت سیم شارژ بسته شبکه مخابرات ایرانسل"),
    "پشتیبان": _words("نسخه فایل"),
}
_NOT_PERSON_AFTER: dict[str, frozenset[str]] = {
    "human": _words("resources resource rights error hair body skin nature trafficking readable touch genome health"),
    "agent": _words(
        "program programme commission code id fee fees registration application network software app login "
        "portal license licence job jobs position role"
    ),
    "operator": _words("code network sim fee fees charges license licence precedence overloading"),
    "staff": _words("discount picks pick price only room entrance"),
    "اپراتور": _words("همراه ایرانسل رایتل تلفن موبایل شبکه سیم سیمکارت اینترنت شاتل مخابرات"),
    "پشتیبان": _words("گیری گرفتن بگیرم بگیرید بگیرین گیر"),
}
_CALL_WHEN = _words("back please now asap at on when today tomorrow as soon urgently about")
_OPERATOR_CONTEXT = _words("سیمکارت سیم شارژ ایرانسل رایتل آنتن انتن sim irancell rightel recharge coverage signal")

_JOB_WORDS = _words(
    "hire hiring job jobs vacancy vacancies career careers recruit recruiting recruitment resume cv internship "
    "salary استخدام استخدامی شغل شغلی رزومه جذب نیازمندیم کارآموز کارآموزی کاراموزی نمایندگی"
)
_BECOME = _words("become becoming بشم بشوم شوم بشیم")

_CONTACT_INFO = _words("number numbers email mail hotline whatsapp telegram instagram ایمیل واتساپ تلگرام اینستاگرام")
_OWN = _words("my our order tracking invoice card account serial model reference ref national id postal zip")
_HOURS = _words("hours schedule timetable")
_HOURS_OWNER = _words("your the support service working business opening office customer_service what which their")
_HOW = _words("how چطور چطوری چگونه چجوری")
_REACH = _words("contact reach call email phone message text تماس ارتباط")

# Phrases joined into one token before matching.
_PHRASES = [
    (re.compile(r"\bcustomer (?:service|support|care)s?\b"), "customer_service"),
    (re.compile(r"\bhelp desk\b"), "helpdesk"),
    (re.compile(r"\blive (?:chat|support)\b"), "live_chat"),
    (re.compile(r"\bphone (?:number|no)\b"), "number"),
    (re.compile(r"\be mail\b"), "email"),
    (re.compile(r"(?:خدمات|امور|واحد) مشتری(?:ان)?"), "خدمات_مشتریان"),
    (re.compile(r"پشتیبان(?:ی)? (?:آنلاین|انلاین|زنده)"), "پشتیبان_آنلاین"),
    (re.compile(r"هوش مصنوعی|چت ?بات"), "ربات"),
    (re.compile(r"گفت و ?گو"), "گفتگو"),
    (re.compile(r"سیم ?کارت"), "سیمکارت"),
    (re.compile(r"\bکار (?:دارم|داشتم)"), "کاردارم"),
]
_CLAUSE_SPLIT_RE = re.compile(
    r"[.!?\u061f,\u060c;\u061b:\n()\[\]\"«»]+|\b(?:but|however|although|though)\b|\s(?:ولی|اما|بلکه)\s"
)
_TOKEN_RE = re.compile(r"[a-z]+_[a-z]+|[^\W\d_a-z]+_[^\W\d_a-z]+|[^\W_]+(?:'[^\W_]+)?")
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")
_PERSIAN_REPEAT_RE = re.compile(r"([\u0600-\u06ff])\1+")
_CONTRACTIONS = {"can't": ["cannot"], "cant": ["cannot"], "won't": ["will", "not"], "wont": ["will", "not"]}
_NT_BARE = _words("dont doesnt didnt isnt arent wasnt werent wouldnt shouldnt couldnt havent hasnt")

# Light fuzzy matching of English typos ("humna", "reprsentative"); words one edit from a target
# word but with their own meaning are protected.
_FUZZY_TARGETS = (
    "human",
    "person",
    "agent",
    "representative",
    "operator",
    "someone",
    "somebody",
    "supervisor",
    "customer",
    "service",
    "support",
    "connect",
    "transfer",
    "speak",
)
_FUZZY_PROTECTED = _words(
    "persian persia parson steak sneak speck humane agents humans persons argent services supports"
)
_MAX_CHARS = 2000  # requests are short; a pasted log past this is not scanned further


def detect_human_request(text: str) -> HumanRequest:
    """Return whether ``text`` asks to talk to a person, with the rule that matched as ``cue``.

    Never raises on a ``str``. Cues: ``talk_to_person``, ``transfer_request``, ``ask_for_person``,
    ``bare_request``, ``reject_bot``, ``anyone_there``, ``callback_request``.
    """
    norm = normalize(text[:_MAX_CHARS]).replace(ZWNJ, " ").replace("\u2019", "'")
    for pattern, replacement in _PHRASES:
        norm = pattern.sub(replacement, norm)
    clauses = [_tokens(clause) for clause in _CLAUSE_SPLIT_RE.split(norm)]
    clauses = [clause for clause in clauses if clause]
    every = [token for clause in clauses for token in clause]
    if not every or _is_job_talk(every):
        return _NO
    for tokens in clauses:
        cue = _match_clause(tokens)
        if cue is not None:
            return HumanRequest(requested=True, cue=cue)
    if _is_bare_request(every):
        return HumanRequest(requested=True, cue="bare_request")
    return _NO


# --- tokens -------------------------------------------------------------------------------------


def _tokens(clause: str) -> list[str]:
    """Split a normalised clause into tokens: contractions expanded, typos fixed, «نمی»/«می» split off."""
    tokens: list[str] = []
    for raw in _TOKEN_RE.findall(clause):
        token = _REPEAT_RE.sub(r"\1", raw)
        if token in _CONTRACTIONS:
            tokens.extend(_CONTRACTIONS[token])
        elif token.endswith("n't"):
            tokens.extend([token[:-3], "not"])
        elif token in _NT_BARE:
            tokens.extend([token[:-2], "not"])
        elif token.startswith("نمی") and len(token) > 3:
            tokens.extend(["نمی", token[3:]])
        elif token.startswith("می") and token[2:].startswith("خوا"):
            tokens.extend(["می", token[2:]])
        elif token in _PERSON or token.isascii():
            tokens.append(_fix_typo(token))
        else:
            # «اپراتووور»: hazm keeps two of a stretched letter; one is the word when it is a person word.
            single = _PERSIAN_REPEAT_RE.sub(r"\1", token)
            tokens.append(single if single in _PERSON else token)
    return tokens


def _fix_typo(token: str) -> str:
    """Return the target word ``token`` is a typo of (one edit, two for long words), else ``token``."""
    if len(token) < 5 or not token.isascii() or not token.isalpha() or token in _FUZZY_PROTECTED:
        return token
    if token in _FUZZY_TARGETS:
        return token
    limit = 2 if len(token) >= 9 else 1
    for target in _FUZZY_TARGETS:
        if abs(len(target) - len(token)) <= limit and _edit_distance(token, target, limit) <= limit:
            return target
    return token


def _edit_distance(left: str, right: str, limit: int) -> int:
    """Return the optimal-string-alignment distance (adjacent swaps count 1), or ``limit + 1`` once past it."""
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, char in enumerate(left, 1):
        current = [i] + [0] * len(right)
        for j, other in enumerate(right, 1):
            cost = 0 if char == other else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == right[j - 2] and left[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


# --- rules --------------------------------------------------------------------------------------


def _match_clause(tokens: list[str]) -> str | None:
    """Return the cue of the first rule that finds a request in one clause, else ``None``."""
    if _rejects_bot(tokens):
        return "reject_bot"
    if _asks_callback(tokens):
        return "callback_request"
    for index in range(len(tokens)):
        if _transfer_at(tokens, index):
            return "transfer_request"
    if _asks_for_contact_info(tokens):
        return None
    for index in range(len(tokens)):
        if _talk_at(tokens, index):
            return "talk_to_person"
        if _want_at(tokens, index) or _prefer_at(tokens, index) or _handle_at(tokens, index):
            return "ask_for_person"
        if _anyone_there_at(tokens, index):
            return "anyone_there"
    return None


def _is_person(tokens: list[str], index: int, *, strong: bool = False) -> bool:
    """Return whether ``tokens[index]`` names a support person here (not "travel agent", «اپراتور همراه»)."""
    if not 0 <= index < len(tokens):
        return False
    token = tokens[index]
    if token not in (_STRONG if strong else _PERSON):
        return False
    key = token.rstrip("s") if token in ("agents", "operators", "humans", "reps") else token
    key = "اپراتور" if key.startswith(("اپراتور", "اوپراتور", "اپرتور")) else key
    key = "پشتیبان" if key.startswith("پشتیبان") and not key.startswith("پشتیبانی") else key
    before = tokens[index - 1] if index > 0 else ""
    after = set(tokens[index + 1 : index + 3])
    if before in _NOT_PERSON_BEFORE.get(key, ()) or after & _NOT_PERSON_AFTER.get(key, frozenset()):
        return False
    return not (key in ("اپراتور", "operator") and _OPERATOR_CONTEXT & set(tokens))


def _negated(tokens: list[str], start: int, end: int) -> bool:
    """Return whether the words around ``tokens[start:end+1]`` negate it or make it hypothetical."""
    before = tokens[max(0, start - 5) : start]
    after = tokens[end + 1 : end + 5]
    if _EN_NEGATORS & set(before) or _FA_NEGATORS & set(before + after):
        return True
    if "than" in tokens[:start] and _THAN_OPENERS & set(tokens[: tokens.index("than")]):
        return True
    if "rather" in before and tokens[tokens.index("rather") + 1 : tokens.index("rather") + 2] == ["not"]:
        return True
    for offset, token in enumerate(before):
        # A clause-opening "no" answers the bot ("no, I want a human"); elsewhere it negates.
        if token == "no" and (start - len(before) + offset > 0 or before[offset + 1 : offset + 2] == ["need"]):
            return True
        if token == "if" and {"i", "we"} & set(before[offset + 1 : offset + 3]):
            return True
        if token in ("do", "does", "will", "would", "should") and before[offset + 1 : offset + 2] == ["i"]:
            if {"have", "need"} & set(before[offset + 2 : offset + 4]):
                return True
    if tokens[start - 1 : start] == ["نه"]:
        return True
    window = tokens[max(0, start - 5) : end + 5]
    for offset, token in enumerate(window[:-1]):
        if token == "نمی" and window[offset + 1].startswith(_FA_NEGATED_STEMS):
            return True
        if token in ("لازم", "not", "no") and window[offset + 1] in ("نیست", "needed", "necessary", "required", "need"):
            return True
    return any(token.startswith(("نکن", "نزن", "نخوا", "ندار", "نیست")) for token in after)


def _near_person(tokens: list[str], lo: int, hi: int, *, strong: bool = False) -> int | None:
    """Return the index of the first support person in ``tokens[lo:hi]``, else ``None``."""
    for index in range(max(0, lo), min(len(tokens), hi)):
        if _is_person(tokens, index, strong=strong):
            return index
    return None


def _talk_at(tokens: list[str], index: int) -> bool:
    """Match a talk verb with a person.

    Examples: "talk/speak to a human", «با یه آدم صحبت کنم», "ba operator harf bezanam", "contact an agent".
    """
    token = tokens[index]
    english = token in _EN_TALK or token in _EN_CONTACT
    persian = token in _FA_TALK or token in _FA_CONTACT
    if not (english or persian):
        return False
    strong = token in _EN_CONTACT or token in _FA_CONTACT
    if persian and tokens[index + 1 : index + 2] and tokens[index + 1] in _FA_PAST:
        return False  # «با اپراتور صحبت کردم» reports, it does not ask
    if english and token not in ("harf", "sohbat", "gap"):
        # English order: verb, then "to"/"with", then at most a few filler words, then the person.
        for end in range(index + 1, min(len(tokens), index + 7)):
            if _is_person(tokens, end, strong=strong) and {"to", "with"} & set(tokens[index + 1 : end]):
                return not _negated(tokens, index, end)
        return False
    # Persian and Finglish: «با» + person within a few words of the verb, on either side; a topic
    # («درباره‌ی قرارداد») may sit between them.
    for ba in range(max(0, index - 8), min(len(tokens), index + 3)):
        if tokens[ba] not in ("با", "ba"):
            continue
        person = _near_person(tokens, ba + 1, ba + 4, strong=strong)
        if person is not None and abs(person - index) <= 8:
            return not _negated(tokens, min(ba, index), max(person, index))
    return False


def _transfer_at(tokens: list[str], index: int) -> bool:
    """Match a transfer verb with a person.

    Examples: "connect me to an agent", "put me through", "please escalate", «وصلم کن به پشتیبان», «ارجاع به کارشناس».
    """
    token = tokens[index]
    if token == "escalate":
        return not _negated(tokens, index, index)
    if token in _EN_TRANSFER or token in _EN_TRANSFERRED:
        if token in _EN_TRANSFERRED and not {"be", "get", "being"} & set(tokens[max(0, index - 2) : index]):
            return False
        if token in _EN_TRANSFER and not {"me", "us", "this", "it", "my", "chat", "conversation"} & set(
            tokens[index + 1 : index + 3]
        ):
            return False
        person = _near_person(tokens, index + 1, index + 8)
    elif token in _FA_TRANSFER_ANY or token in _FA_TRANSFER_STRONG:
        strong = token in _FA_TRANSFER_STRONG
        person = _near_person(tokens, index - 6, index + 7, strong=strong)
    else:
        return False
    return person is not None and not _negated(tokens, min(index, person), max(index, person))


def _want_at(tokens: list[str], index: int) -> bool:
    """Match a want/need verb with a person.

    Examples: "can I get an agent", "I need a real person", «یه اپراتور می‌خوام», «درخواست کارشناس».
    """
    token = tokens[index]
    english = token in _EN_REQUEST or (token == "like" and tokens[index - 1 : index] in (["would"], ["i'd"]))
    # "this needs a human" asks; "the patient needs a supervisor" states a rule.
    english = english or (token == "needs" and tokens[index - 2 : index][-1:] in (["this"], ["it"], ["one"], ["case"]))
    english = english or (token == "have" and {"can", "could", "may"} & set(tokens[max(0, index - 2) : index]))
    if english:
        allowed = _words("me us a an the one some real actual live proper genuine human help from of your just please")
        for end in range(index + 1, min(len(tokens), index + 6)):
            if _is_person(tokens, end, strong=True):
                return not _negated(tokens, index, end)
            if tokens[end] not in allowed:
                return False
        return False
    if token in _FA_REQUEST:
        allowed = _words("یه یک با لطفا واقعی انسانی آنلاین انلاین زنده رو را هم فوری پشتیبانی فروش ye yek vaghei")
        for step in (-1, 1):
            cursor = index + step
            while 0 <= cursor < len(tokens) and abs(cursor - index) <= 4:
                if _is_person(tokens, cursor, strong=True):
                    return not _negated(tokens, min(index, cursor), max(index, cursor))
                if tokens[cursor] not in allowed and tokens[cursor] != "می":
                    break
                cursor += step
    return False


def _prefer_at(tokens: list[str], index: int) -> bool:
    """Match a preference for a person.

    Examples: "I'd rather speak with a real person", "I'd rather sort this out with a human than a bot",
    «ترجیح می‌دم یه کارشناس بررسی کنه». Not: "I'd rather use the app than talk to an agent", "rather not".
    """
    token = tokens[index]
    if token not in _PREFER:
        return False
    if token == "rather" and not {"i'd", "id", "would", "we'd", "i", "we"} & set(tokens[max(0, index - 2) : index]):
        return False  # "rather slow", "or rather"
    for end in range(index + 1, min(len(tokens), index + 9)):
        if tokens[end] in ("than", "not", "نه"):
            return False
        if _is_person(tokens, end, strong=True):
            return not _negated(tokens, index, end)
    return False


def _handle_at(tokens: list[str], index: int) -> bool:
    """Match a person asked to handle the case, in a clause that asks.

    Examples: "have a human look at my claim", "can a real person check this?", «لطفاً یه اپراتور
    انسانی جواب بده», «باید یه آدم بررسی کنه», "ye operator javab bede". A report ("an agent
    answered me") has no asking word and a past verb, and does not match.
    """
    if not _is_person(tokens, index, strong=True) or tokens[index - 1 : index] in (["another"], ["other"]):
        return False  # "another person to help you" is someone else, not support
    following = tokens[index + 1 : index + 7]
    named_human = tokens[index] in _EN_HUMAN or tokens[index - 1 : index] and tokens[index - 1] in _EN_REAL
    english = bool(named_human) and any(word in _EN_HANDLE for word in following[:3])
    persian = any(
        word in _FA_HANDLE and following[offset + 1 : offset + 2] and following[offset + 1] in _FA_ASK_VERB
        for offset, word in enumerate(following)
    )
    if not (english or persian) or not _asking_before(tokens, index):
        return False
    return not _negated(tokens, index, index)


def _asking_before(tokens: list[str], index: int) -> bool:
    """Return whether an asking word stands in the five words before ``tokens[index]``, not after "you"/"they".

    "You need another person to help you" (a rule stated to the reader) does not ask.
    """
    for cursor in range(max(0, index - 5), index):
        if tokens[cursor] in _ASKING and tokens[cursor - 1 : cursor] not in (["you"], ["they"], ["he"], ["she"]):
            return True
    return False


def _anyone_there_at(tokens: list[str], index: int) -> bool:
    """Match an "is anybody there" question.

    Examples: "is anyone there", "a person I can chat with", «کسی هست؟».
    """
    token = tokens[index]
    if token in ("anyone", "anybody", "someone", "somebody") and tokens[index + 1 : index + 2] in (
        ["there"],
        ["here"],
        ["online"],
        ["available"],
        ["around"],
    ):
        return not _negated(tokens, index, index)
    if token == "کسی" and {"هست", "هستش", "اونجا", "نیست", "اونجاست"} & set(tokens[index + 1 : index + 3]):
        return True
    if token in ("someone", "somebody", "anyone", "anybody", "person", "human", "agent", "operator"):
        following = tokens[index + 1 : index + 5]
        return bool(_EN_TALK & set(following)) and not {"said", "told", "asked"} & set(following)
    return False


def _rejects_bot(tokens: list[str]) -> bool:
    """Match a rejection of the bot.

    Examples: "stop the bot", "I don't want a bot", "not a bot", «ربات نه», «با ربات نمی‌خوام حرف بزنم», «ربات بسه».
    """
    for index, token in enumerate(tokens):
        if token not in _BOT and token not in ("robot", "robat"):
            continue
        window = tokens[max(0, index - 5) : index + 4]
        if _EN_BOT_REJECT & set(tokens[max(0, index - 5) : index]) or _FA_BOT_REJECT & set(window):
            return True
        if "نه" in window or "na" in tokens[index - 1 : index + 2]:
            return True
        for offset, word in enumerate(window[:-1]):
            if word == "نمی" and window[offset + 1].startswith(_FA_NEGATED_STEMS):
                return True
        before = tokens[max(0, index - 7) : index]
        if "not" in before and _words("want like need talk chat speak") & set(before[before.index("not") :]):
            return True
        short = len(tokens) <= 4 and tokens[:index][-2:] in (["not", "a"], ["no"], ["not"], ["no", "more"])
        if short and not {"i'm", "im", "am"} & set(tokens):
            return True
    return False


def _asks_callback(tokens: list[str]) -> bool:
    """Match a request to be called.

    Examples: "call me back", "give me a call", «باهام تماس بگیرید», «بهم زنگ بزنید».
    """
    for index, token in enumerate(tokens):
        nxt = tokens[index + 1 : index + 3]
        if token in ("call", "phone", "ring") and nxt[:1] == ["me"] and not _negated(tokens, index, index):
            if len(nxt) == 1 or nxt[1] in _CALL_WHEN:
                return True
        if token == "give" and tokens[index + 1 : index + 4] == ["me", "a", "call"]:
            return not _negated(tokens, index, index)
        fa_call = (token in ("تماس", "tamas") and nxt[:1] and nxt[0].startswith(("بگیر", "begir"))) or (
            token in ("زنگ", "zang") and nxt[:1] and nxt[0].startswith(("بزن", "bezan"))
        )
        me = {"باهام", "بهم", "باهامون", "بهمون", "behem", "baham", "behemun", "behemoon", "bahamun"}
        if fa_call and (me & set(tokens) or _has_pair(tokens, ("با", "به", "ba", "be"), "من") or "man" in tokens):
            return not _negated(tokens, index, index)
    return False


def _has_pair(tokens: list[str], firsts: tuple[str, ...], second: str) -> bool:
    """Return whether some token in ``firsts`` is directly followed by ``second``."""
    return any(token in firsts and tokens[i + 1 : i + 2] == [second] for i, token in enumerate(tokens))


def _asks_for_contact_info(tokens: list[str]) -> bool:
    """Return whether a clause asks how or when to reach support (number, e-mail, hours), not for a person."""
    for index, token in enumerate(tokens):
        before = set(tokens[max(0, index - 2) : index])
        if token in _CONTACT_INFO and not before & _OWN:
            return True
        if token in _HOURS and (before & _HOURS_OWNER or tokens[index + 1 : index + 2] == ["of"]):
            return True
        if token in ("ساعت", "ساعات") and {"کاری", "کار", "پاسخگویی", "چند", "کاریتون"} & set(
            tokens[index + 1 : index + 3]
        ):
            return True
        if token in ("ساعتی", "روزهایی", "روزای") or (token == "time" and before & {"what", "which"}):
            return True
        if token == "شماره" and _words(
            "تماس تلفن پشتیبانی پشتیبان اپراتور کارشناس واتساپ شما تون تلفنی موبایل همراه"
        ) & set(tokens[index + 1 : index + 3]):
            return True
        if token in ("شمارتون", "شمارهتون", "آدرس", "تلفنتون") or (
            token == "اطلاعات" and "تماس" in tokens[index + 1 : index + 2]
        ):
            return True
        if (
            token in _HOW
            and _REACH & set(tokens[index + 1 : index + 6])
            and not _TALK & set(tokens[index + 1 : index + 8])
        ):
            return True
        if token in ("when", "کی") and index <= 1:
            return True
    return False


def _is_job_talk(tokens: list[str]) -> bool:
    """Return whether the message is about jobs or becoming an agent/representative, not getting one."""
    if _JOB_WORDS & set(tokens):
        return True
    for index, token in enumerate(tokens):
        if token in _BECOME and any(_is_person(tokens, i) for i in range(max(0, index - 3), index + 4)):
            return True
        if token == "همکاری" and {"شرایط", "دعوت", "درخواست", "فرم", "برای", "جهت"} & set(
            tokens[max(0, index - 2) : index]
        ):
            return True
    return False


def _is_bare_request(tokens: list[str]) -> bool:
    """Match a bare request such as "human please", "live agent", «اپراتور», «کارشناس پشتیبانی».

    Examples: only filler and at least one strong person.
    """
    if len(tokens) > 6 or not all(token in _FILLER or token in _PERSON for token in tokens):
        return False
    for index in range(len(tokens)):
        if _is_person(tokens, index, strong=True):
            return not _negated(tokens, index, index)
    return False
