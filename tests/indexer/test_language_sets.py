"""detect_lang against the language of every message of the support-QA sets.

The sets have no language field: a message in Persian script is Persian; a message in Latin
letters is English unless it is Finglish, which its ``kind`` says for the ``finglish`` rows and the
list below says for the Finglish rows of other kinds (read by hand).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.textnorm import detect_lang

ROOT = Path(__file__).resolve().parents[2]
SETS = {
    "supportqa_dev": ROOT.parent / "shared" / "data" / "supportqa_dev" / "questions.jsonl",
    "hamrahnet": ROOT / "data" / "supportqa" / "hamrahnet" / "questions.jsonl",
}
FINGLISH_IN_OTHER_KINDS = frozenset(
    {
        # supportqa_dev
        "salam, check-in hotel saat chande? va bilite havapeyma baraye bache 2 sale chande?",
        "emtiaze kharid bilit key be hesabam ezafe mishe?",
        "age bilito kansel konam chi?",
        "bilite konserte Dariush ro ham mifrooshin?",
        "lotfan mano be ye karshenas vasl konid",
        "chera inghadr jarime kansel ziade?! 40 darsad?? in dozdie!",
        # hamrahnet
        "net-e khune kond shode, speed test ro koja bezanam? va baste shabane chande?",
        "gharardad-e 12 mahe daram, mah-e 5 am. age fasx konam jarime chande?",
        "va age mah-e 11 basham?",
        "modem-e TD-LTE ro koja bezaram ke anten behtar bede?",
        "va age bekhamesh bekharam chande?",
        "ahvalat chetore? ye joke begu",
        "shoma vam ham midid?",
        "mishe sharj ro az khat-e khodam be ye shomare dige enteghal bedam?",
        "ba ye adam-e vaghei mikham sohbat konam na robot",
        "lotfan ye karshenas be man zang bezane",
        "chera khat-e mano bedune etela ghat kardin?!! faghat ye hafte ghabzo dir dadam!",
        "kheyli bi masouliyatin, 3 bar zang zadam hich kas javab nadad",
    }
)


def labelled_messages(path: Path) -> list[tuple[str, str]]:
    """Return ``(message, language)`` for every row of a support-QA ``questions.jsonl``."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for row in rows:
        text = row["q"]
        persian_script = any("\u0600" <= char <= "\u06ff" for char in text)
        finglish = row["kind"] == "finglish" or text in FINGLISH_IN_OTHER_KINDS
        out.append((text, "fa" if persian_script or finglish else "en"))
    return out


def agreement(detect: Callable[[str], str] = detect_lang) -> dict[str, tuple[int, int]]:
    """Return, per available set, how many messages ``detect`` labels right and how many there are."""
    figures = {}
    for name, path in SETS.items():
        if path.is_file():
            rows = labelled_messages(path)
            figures[name] = (sum(detect(text) == lang for text, lang in rows), len(rows))
    return figures


@pytest.mark.parametrize("name", sorted(SETS))
def test_detect_lang_agrees_with_every_message_of_the_support_sets(name: str) -> None:
    path = SETS[name]
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    wrong = [(text, lang, detect_lang(text)) for text, lang in labelled_messages(path) if detect_lang(text) != lang]
    assert wrong == []


def test_finglish_rows_listed_by_hand_are_in_the_sets() -> None:
    texts = {text for path in SETS.values() if path.is_file() for text, _ in labelled_messages(path)}
    if not all(path.is_file() for path in SETS.values()):
        pytest.skip("a support-QA set is not there")
    assert FINGLISH_IN_OTHER_KINDS <= texts
