"""Split a message that asks several things into its questions.

"How much is delivery and can I pay on arrival?" holds two questions; each is matched on its
own so each gets its answer and source. A split is made at sentence ends and at "and"/"also"
/«و»/«همچنین» when what follows starts like a new question (a question word or an auxiliary
verb), so "delivery to Tehran and Karaj" stays one question. Pieces with fewer than two
content words are not questions on their own and stay attached to their neighbour.
"""

from __future__ import annotations

import re

from indexer.textnorm import lexical_tokens, split_sentences

_EN_START = (
    r"(?:can|could|do|does|did|is|are|was|will|would|should|may|how|what|when|where|which|who|why|"
    r"i (?:also )?(?:want|need|would like)|is there|are there)\b"
)
_FA_START = (
    r"(?:آیا|چطور|چطوری|چگونه|چه|چی|چند|چقدر|کی|کجا|کدام|کدوم|چرا|میشه|می‌شه|می‌شود|میشود|می‌توانم|میتونم|"
    r"می‌تونم|امکان|ممکنه|ممکن است|دارید|هست|اگر|آیا)"
)
_JOINER = re.compile(
    rf"(?:,?\s+(?:and|also|plus)\s+(?:also\s+)?(?={_EN_START})|\s+(?:و|همچنین|ضمنا|ضمناً)\s+(?={_FA_START}))",
    re.IGNORECASE,
)


# Words that make a sentence a question wherever they stand ("the fee is how much?", «هزینه‌اش چقدره»).
_QUESTION_WORD = re.compile(
    r"(?:^|[^\w\u200c])(?:how|what|when|where|which|who|why|whom|whose|آیا|چطور|چطوری|چگونه|چه|چی|چیه|چند|چنده|"
    r"چقدر|چقدره|چقد|کی|کجا|کجاست|کدام|کدوم|چرا|میشه|می‌شه|می‌شود|میشود|امکانش|ممکنه)(?=$|[^\w\u200c])",
    re.IGNORECASE,
)


def _is_question(piece: str) -> bool:
    """Return whether a piece asks something (a question mark or a question word), rather than telling."""
    return piece.rstrip().endswith(("?", "؟")) or bool(_QUESTION_WORD.search(piece))


def _too_short(piece: str) -> bool:
    """Return whether a piece is too small to be a question of its own (fewer than two words)."""
    return len(piece.split()) < 2 or len(lexical_tokens(piece)) < 2


def split_questions(message: str, *, limit: int = 3, context: bool = True) -> list[str]:
    """Return the message's questions (at least one: the message itself), at most ``limit``.

    With ``context`` (the chat turn), a sentence that asks nothing is kept with its question; without
    it (agent suggestions, which drop outbursts) every sentence stands on its own.
    """
    if not context:
        return _split(split_sentences(message), message, limit)
    # A sentence that only tells ("My payment failed.", «پرداختم ناموفق بود.») is the context of the
    # question after it (or, at the end, before it), not a question of its own.
    sentences: list[str] = []
    told = ""
    for sentence in split_sentences(message):
        if not _is_question(sentence):
            told = f"{told} {sentence}".strip()
            continue
        sentences.append(f"{told} {sentence}".strip() if told else sentence)
        told = ""
    if told:
        if sentences:
            sentences[-1] = f"{sentences[-1]} {told}"
        else:
            sentences.append(told)
    return _split(sentences, message, limit)


def _split(sentences: list[str], message: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for sentence in sentences:
        pieces.extend(p.strip() for p in _JOINER.split(sentence) if p and p.strip())
    merged: list[str] = []
    for piece in pieces:
        if merged and _too_short(piece):
            merged[-1] = f"{merged[-1]} {piece}"
        elif merged and _too_short(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    if len(merged) <= 1:
        return [message.strip()]
    if len(merged) > limit:
        merged = [*merged[: limit - 1], " ".join(merged[limit - 1 :])]
    return merged
