"""The demo store page: a fictional shop ("Bazaarcheh") with the chat widget, in Persian or English.

The page is one HTML template (``static/demo.html``) filled with the strings of the chosen language; every
value is HTML-escaped here, so the template itself holds no user input.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from string import Template

TEMPLATE_PATH = Path(__file__).resolve().parent / "static" / "demo.html"
DEMO_SITE_KEY = "demo"
LANGS = ("fa", "en")

_STRINGS: dict[str, dict[str, str]] = {
    "fa": {
        "dir": "rtl",
        "title": "بازارچه — فروشگاه اینترنتی",
        "store": "بازارچه",
        "tagline": "هر چیزی که لازم دارید، با ارسال به سراسر ایران",
        "nav_home": "خانه",
        "nav_phones": "موبایل",
        "nav_home_goods": "خانه و آشپزخانه",
        "nav_books": "کتاب",
        "nav_help": "مرکز راهنمایی",
        "other_lang": "en",
        "other_lang_label": "English",
        "hero_title": "حراج پاییزه بازارچه",
        "hero_text": "تا ۳۰٪ تخفیف روی لوازم خانگی و کتاب. سؤالی دارید؟ دستیار پشتیبانی پایین صفحه پاسخ می‌دهد.",
        "products_title": "پرفروش‌ترین‌ها",
        "p1": "گوشی هوشمند نوا ۱۲",
        "p1_price": "۱۸٬۴۰۰٬۰۰۰ تومان",
        "p2": "کتری برقی استیل",
        "p2_price": "۱٬۲۹۰٬۰۰۰ تومان",
        "p3": "رمان «کوچه‌های باران»",
        "p3_price": "۱۸۵٬۰۰۰ تومان",
        "p4": "هدفون بی‌سیم آوا",
        "p4_price": "۲٬۷۵۰٬۰۰۰ تومان",
        "add_to_cart": "افزودن به سبد",
        "embed_title": "این دستیار را به سایت خود اضافه کنید",
        "embed_text": "یک خط در صفحه‌های سایت کافی است:",
        "footer": "بازارچه یک فروشگاه خیالی برای نمایش پاسخ است.",
        "greeting": "سلام! من دستیار بازارچه هستم. درباره ارسال، پرداخت، مرجوعی یا سفارش‌تان بپرسید.",
        "position": "left",
    },
    "en": {
        "dir": "ltr",
        "title": "Bazaarcheh — online store",
        "store": "Bazaarcheh",
        "tagline": "Everything you need, delivered all over Iran",
        "nav_home": "Home",
        "nav_phones": "Phones",
        "nav_home_goods": "Home & kitchen",
        "nav_books": "Books",
        "nav_help": "Help centre",
        "other_lang": "fa",
        "other_lang_label": "فارسی",
        "hero_title": "Bazaarcheh autumn sale",
        "hero_text": "Up to 30% off home appliances and books. Questions? The support assistant at the bottom answers.",
        "products_title": "Best sellers",
        "p1": "Nava 12 smartphone",
        "p1_price": "18,400,000 toman",
        "p2": "Steel electric kettle",
        "p2_price": "1,290,000 toman",
        "p3": "Novel: Alleys of Rain",
        "p3_price": "185,000 toman",
        "p4": "Ava wireless headphones",
        "p4_price": "2,750,000 toman",
        "add_to_cart": "Add to cart",
        "embed_title": "Add this assistant to your site",
        "embed_text": "One line on your pages is enough:",
        "footer": "Bazaarcheh is a fictional store that demonstrates Pasokh.",
        "greeting": "Hi! I'm the Bazaarcheh assistant. Ask me about delivery, payment, returns or your order.",
        "position": "right",
    },
}


def widget_snippet(lang: str, *, src: str = "/widget.js") -> str:
    """Return the ``<script>`` tag that adds the widget to a page (unescaped HTML)."""
    strings = _STRINGS[lang]
    attrs = {
        "src": src,
        "data-site-key": DEMO_SITE_KEY,
        "data-lang": lang,
        "data-position": strings["position"],
        "data-color": "#0f766e",
        "data-greeting": strings["greeting"],
    }
    rendered = " ".join(f'{name}="{html.escape(value, quote=True)}"' for name, value in attrs.items())
    return f"<script {rendered} async></script>"


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template(TEMPLATE_PATH.read_text(encoding="utf-8"))


def render_demo(lang: str) -> str:
    """Return the demo page in ``lang`` (``fa`` or ``en``; anything else gets Persian)."""
    lang = lang if lang in LANGS else "fa"
    values = {key: html.escape(value, quote=True) for key, value in _STRINGS[lang].items()}
    snippet = widget_snippet(lang)
    # The snippet shown to readers uses the full address form a real site would paste.
    shown = widget_snippet(lang, src="https://your-pasokh-server/widget.js")
    return _template().substitute(values, lang=lang, widget_snippet=snippet, shown_snippet=html.escape(shown))
