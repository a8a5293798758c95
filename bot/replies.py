"""The bot's own words, in Persian and English: everything it says that is not quoted from the KB."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "source": {"fa": "منبع", "en": "Source"},
    "other_language_fa": {
        "fa": "",
        "en": "This is answered in our Persian help centre (there is no English version yet):",
    },
    "other_language_en": {
        "fa": "پاسخ این پرسش فقط در راهنمای انگلیسی ما آمده است:",
        "en": "",
    },
    "not_found": {
        "fa": "متأسفانه پاسخ مطمئنی برای این پرسش در راهنمای ما پیدا نکردم.",
        "en": "I'm sorry, I couldn't find a reliable answer to that in our help centre.",
    },
    "not_found_part": {
        "fa": "برای این بخش از پیامتان پاسخ مطمئنی در راهنمای ما پیدا نکردم: «{part}»",
        "en": 'I couldn\'t find a reliable answer in our help centre to this part of your message: "{part}"',
    },
    "rephrase": {
        "fa": "می‌شود پرسش را کمی دقیق‌تر یا با کلمات دیگری بنویسید؟",
        "en": "Could you put the question another way, or add a detail?",
    },
    "handoff_low_confidence": {
        "fa": "برای اینکه پاسخ درستی بگیرید، گفتگو را به یکی از همکارانم در پشتیبانی می‌سپارم.",
        "en": "To make sure you get the right answer, "
        "I'm passing this conversation to a colleague in our support team.",
    },
    "handoff_requested": {
        "fa": "حتماً. گفتگو را به یکی از همکارانم در پشتیبانی می‌سپارم.",
        "en": "Of course. I'm passing this conversation to a colleague in our support team.",
    },
    "handoff_repeated_failure": {
        "fa": "متأسفم که نتوانستم کمکتان کنم. گفتگو را به یکی از همکارانم در پشتیبانی می‌سپارم.",
        "en": "I'm sorry I haven't been able to help. "
        "I'm passing this conversation to a colleague in our support team.",
    },
    "handoff_angry": {
        "fa": "گفتگو را با اولویت بالا به یکی از همکارانم در پشتیبانی می‌سپارم تا خودش پیگیری کند.",
        "en": "I've passed this conversation to a colleague in our support team with high priority, "
        "so a person follows it up.",
    },
    "apology": {
        "fa": "{name}واقعاً متأسفیم که این مشکل پیش آمده و باعث ناراحتی‌تان شده است؛ حق دارید پیگیر باشید.",
        "en": "{name}I'm really sorry about this; you're right to expect better from us.",
    },
    "ticket": {"fa": "شماره‌ی پیگیری شما: {ticket}", "en": "Your reference number: {ticket}"},
    "phone": {"fa": "شماره‌ی تماس پشتیبانی: {phone}", "en": "Support phone: {phone}"},
    "ticket_stays_open": {
        "fa": "درخواست شما{ticket} همچنان باز است و همکارم در پشتیبانی هم در همین گفتگو پاسخ می‌دهد.",
        "en": "Your request{ticket} stays open, and a colleague from our support team will also reply here.",
    },
    "added_to_ticket": {
        "fa": "پیامتان به درخواست شما{ticket} اضافه شد؛ همکارم در پشتیبانی در همین گفتگو پاسخ می‌دهد.",
        "en": "I've added this to your request{ticket}; a colleague from our support team will reply here.",
    },
    "already_queued": {
        "fa": "گفتگو به همکارانم در پشتیبانی سپرده شده است{ticket}؛ یکی از آن‌ها در همین گفتگو پاسخ می‌دهد.",
        "en": "This conversation is already with our support team{ticket}; a colleague will reply here.",
    },
    "thanks": {
        "fa": "خواهش می‌کنم! اگر سؤال دیگری دارید، در خدمتم.",
        "en": "You're welcome! If anything else comes up, just ask.",
    },
    "goodbye": {"fa": "روز خوبی داشته باشید!", "en": "Have a good day!"},
    "greeting": {
        "fa": "سلام{name}! چطور می‌توانم کمکتان کنم؟",
        "en": "Hello{name}! How can I help you?",
    },
}


def text(key: str, lang: str, **values: str) -> str:
    """Return the bot's sentence ``key`` in ``lang`` (Persian for anything but English), filled with ``values``."""
    template = _TEXTS[key]["en" if lang == "en" else "fa"]
    return template.format(**values)


def name_prefix(name: str | None, lang: str) -> str:
    """Return the customer's name as a sentence opener ("Sara, " / «سارا عزیز، »), or nothing."""
    if not name or not name.strip():
        return ""
    name = " ".join(name.split())[:60]
    return f"{name}, " if lang == "en" else f"{name} عزیز، "
