"""Match a message to the KB: the article that answers it, its section, and a calibrated confidence."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from importlib import resources

import numpy as np

from bot.confidence import FEATURES, Calibrator
from indexer.readings import is_finglish, readings
from indexer.retrieval import Hit, HybridSearcher
from indexer.textnorm import detect_lang, lexical_tokens

# The answer is the candidate with the best mix of hybrid rank score and classifier probability.
# Equal weights were best for choosing the right article on CLINC150 dev (scripts/bench_quality.py).
CHOICE_WEIGHT = 0.5
CANDIDATES = 10
NEIGHBOUR_SAMPLE = 150
# Two articles' closest keys at this cosine or more say the same thing (a fact repeated in two articles).
DUPLICATE_COSINE = 0.92
# Up to this many keys every key's cosine is computed for the evidence (beyond, FAISS's top keys).
EXACT_KEYS = 50_000


@dataclass(frozen=True)
class Match:
    """The best answer for one message, with the evidence behind its confidence."""

    hit: Hit | None
    hits: tuple[Hit, ...]  # the retrieval candidates, best first, the chosen one included
    confidence: float
    features: dict[str, float]


class AnswerEvidence:
    """Evidence that an article answers a message, measured the same way on a KB of any size.

    * ``cos`` — the cosine between the message and the article's closest key (a section or an
      example question): an absolute similarity, which means the same on 12 articles or 10,000;
    * ``cos_rel`` — ``cos`` minus the median of every article's ``cos`` in that article's language:
      how far the article stands out from the KB's typical article for this message;
    * ``coverage`` — the share of the message's words the article contains, each word weighted by
      its rarity among the KB's articles (normalised to 0–1, so a word no article has weighs 1 and
      a word every article has about 0): low when the message asks about something the article
      does not mention;
    * ``known`` — the share of the message's words that occur anywhere in the KB.
    """

    def __init__(self, searcher: HybridSearcher) -> None:
        """Precompute what the features need from the loaded index behind ``searcher``."""
        self.searcher = searcher
        index = searcher.index
        self._n_articles = len(searcher._article_ids)
        self._key_article = searcher._key_article
        rows_of: dict[str, list[int]] = {}
        for i, key in enumerate(index.keys):
            rows_of.setdefault(key.article_id, []).append(i)
        self._article_rows = {aid: np.array(rows, dtype=np.int64) for aid, rows in rows_of.items()}
        langs = np.array([index.articles[a].lang for a in searcher._article_ids])
        self._position = {aid: i for i, aid in enumerate(searcher._article_ids)}
        self._lang_of = langs
        self._groups = {
            lang: np.flatnonzero(langs == lang) if (langs == lang).sum() >= 5 else np.arange(len(langs))
            for lang in set(langs.tolist())
        }
        bm25 = getattr(index.lexical, "_bm25", None)
        self._vocab = getattr(bm25, "vocab_dict", {}) if bm25 is not None else {}
        scores = getattr(bm25, "scores", None) if bm25 is not None else None
        self._indptr = scores["indptr"] if scores is not None else None
        self._indices = scores["indices"] if scores is not None else None
        self._token_articles: dict[str, np.ndarray] = {}
        self._norm = math.log((self._n_articles + 1) / 0.5) if self._n_articles else 1.0

    def _articles_with(self, token: str) -> np.ndarray:
        """Positions of the articles that contain ``token`` (cached per token)."""
        found = self._token_articles.get(token)
        if found is None:
            tid = self._vocab.get(token)
            if tid is None or self._indptr is None:
                found = np.empty(0, dtype=np.int64)
            else:
                keys = self._indices[self._indptr[tid] : self._indptr[tid + 1]]
                found = np.unique(self._key_article[keys])
            if len(self._token_articles) < 100_000:
                self._token_articles[token] = found
        return found

    def lexical(self, texts: list[str]) -> tuple[np.ndarray, float]:
        """Per-article coverage of the message's words and the share known to the KB (best reading)."""
        best_cov = np.zeros(self._n_articles, dtype=np.float64)
        best_known = 0.0
        for text in texts:
            tokens = list(dict.fromkeys(lexical_tokens(text)))
            if not tokens:
                continue
            cov = np.zeros(self._n_articles, dtype=np.float64)
            total = 0.0
            known = 0
            for token in tokens:
                arts = self._articles_with(token)
                weight = math.log((self._n_articles + 1) / (len(arts) + 0.5)) / self._norm
                total += weight
                if len(arts):
                    known += 1
                    cov[arts] += weight
            if total > 0:
                cov /= total
            best_cov = np.maximum(best_cov, cov)
            best_known = max(best_known, known / len(tokens))
        return best_cov, best_known

    def _key_scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine of the query with every key, question keys on the passages' scale (``align_kinds``).

        Every key is scored exactly up to ``EXACT_KEYS`` keys (about 0.3 ms for 15,000 keys); beyond,
        the keys FAISS does not return count as the lowest score it returned, so an article's
        median stays an honest bound instead of -1.
        """
        vectors = self.searcher.index.vectors
        if len(vectors) <= EXACT_KEYS:
            scores = vectors @ np.asarray(vector, dtype=np.float32)
            return self.searcher.align_kinds(scores).astype(np.float64)
        scores = self.searcher.align_kinds(self.searcher.dense_key_scores(vector)).astype(np.float64)
        found = scores > -1.0
        if found.any():
            scores[~found] = scores[found].min()
        return scores

    def _relative(self, cos: np.ndarray) -> np.ndarray:
        rel = np.empty_like(cos)
        for group in self._groups.values():
            rel[group] = cos[group] - np.median(cos[group])
        return rel

    def dense(self, vectors: list[np.ndarray]) -> dict[str, np.ndarray]:
        """Per-article best key cosine, the same relative to the median article, and every key's cosine.

        With several query vectors (a Finglish message and its Persian reading) each key takes its best.
        """
        keys = self._key_scores(vectors[0])
        for vector in vectors[1:]:
            keys = np.maximum(keys, self._key_scores(vector))
        cos = np.full(self._n_articles, -1.0)
        np.maximum.at(cos, self._key_article, keys)
        return {"cos": cos, "cos_rel": self._relative(cos), "keys": keys}

    def features(
        self, texts: list[str], vectors: list[np.ndarray], hits: list[Hit], probs: list[float]
    ) -> list[dict[str, float]]:
        """Return the features of each hit's article for a message's readings and their query vectors.

        ``probs`` are the classifier's probabilities of the hits' articles. Each hit's
        ``answer_prob`` adds the probabilities of the hits whose closest key says the same as its
        own (key vectors at cosine ``DUPLICATE_COSINE`` or more): two articles that give the same
        answer share the classifier's probability between them, and the answer gets it back whole.
        """
        dense = self.dense(vectors)
        cov, known = self.lexical(texts)
        stored = self.searcher.index.vectors
        best_keys = []
        for hit in hits:
            rows = self._article_rows.get(hit.article.id)
            best_keys.append(int(rows[int(np.argmax(dense["keys"][rows]))]) if rows is not None else -1)
        key_vectors = np.stack([stored[k] if k >= 0 else np.zeros(stored.shape[1]) for k in best_keys])
        same = key_vectors @ key_vectors.T >= DUPLICATE_COSINE
        out = []
        for i, hit in enumerate(hits):
            a = self._position[hit.article.id]
            feats = {name: float(values[a]) for name, values in dense.items() if name != "keys"}
            answer = sum(p for p, dup in zip(probs, same[i], strict=True) if dup) if best_keys[i] >= 0 else probs[i]
            feats.update(coverage=float(cov[a]), known=known, answer_prob=float(max(answer, probs[i])))
            out.append(feats)
        return out


@dataclass(frozen=True)
class NullReference:
    """What a message about something else entirely scores on this KB, per message language.

    The medians, over the background messages of one language (``bot/models/background_queries.txt``:
    cooking, weather, football, homework... in Persian and English), of the best article's cosine and
    log-probability. A long-passage KB gives every message lower cosines than a KB of short example
    questions, and a 12-article KB higher probabilities than a 1,000-article one; measured against this
    reference, the same value means the same thing on both.
    """

    cos: dict[str, float]
    log_prob: dict[str, float]
    neighbour: float = 0.0  # median best cosine of the KB's own keys, read as questions, with other articles


def background_messages() -> list[str]:
    """Return the shipped background messages (one per line; ``#`` starts a comment)."""
    text = (resources.files("bot") / "models" / "background_queries.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _passage_body(key) -> str:
    """Return a section's or unit's own words, without the heading path or title put before them."""
    if key.kind == "unit":
        return key.text.split(": ", 1)[-1]
    return key.text.split("\n", 1)[-1]


def message_lang(text: str) -> str:
    """``fa`` for a message in Persian script or in Finglish, else ``en``."""
    return "fa" if is_finglish(text) or detect_lang(text) == "fa" else "en"


class Matcher:
    """Combines hybrid retrieval, the index's article classifier and the calibrator."""

    def __init__(self, searcher: HybridSearcher, calibrator: Calibrator, *, choice_weight: float = CHOICE_WEIGHT):
        """Use the loaded index behind ``searcher``; ``calibrator`` maps evidence to a probability."""
        self.searcher = searcher
        self.calibrator = calibrator
        self.choice_weight = choice_weight
        self.answer_evidence = AnswerEvidence(searcher)
        self._null: NullReference | None = None
        self._null_lock = threading.Lock()

    def null_reference(self) -> NullReference:
        """Measure (once, on first use) what background messages score on this KB."""
        if self._null is None:
            with self._null_lock:
                if self._null is None:
                    self._null = self._measure_null()
        return self._null

    def _measure_null(self) -> NullReference:
        texts = background_messages()
        vectors = self.searcher._embedder.embed_queries(texts)
        best: dict[str, dict[str, list[float]]] = {}
        for text, vector in zip(texts, vectors, strict=True):
            _, features = self._raw_evidence(text, vector)
            if not features:
                continue
            per = best.setdefault(message_lang(text), {"cos": [], "log_prob": []})
            per["cos"].append(max(f["cos"] for f in features))
            per["log_prob"].append(max(f["log_answer_prob"] for f in features))
        cos = {lang: float(np.median(v["cos"])) for lang, v in best.items()}
        log_prob = {lang: float(np.median(v["log_prob"])) for lang, v in best.items()}
        for table in (cos, log_prob):
            fallback = float(np.mean(list(table.values()))) if table else 0.0
            for lang in ("fa", "en"):
                table.setdefault(lang, fallback)
        return NullReference(cos, log_prob, self._neighbour_cosine())

    def _neighbour_cosine(self, sample: int = NEIGHBOUR_SAMPLE) -> float:
        """How close the KB's articles are to each other, as a question about one meets the others.

        Up to ``sample`` of the KB's keys (evenly spread; sections and units read as questions,
        example questions as they are); for each, the best cosine with another article's keys. A
        message that no article answers but that is about the KB's business scores about this much:
        on a KB of close topics (intents of one bot) it is high, on a KB of unrelated passages low.
        """
        keys = self.searcher.index.keys
        owners = self.answer_evidence._key_article
        if len(set(owners.tolist())) < 2:
            return 0.0
        rows = [int(j) for j in np.linspace(0, len(keys) - 1, min(sample, len(keys)))]
        rows = list(dict.fromkeys(rows))
        # Example questions are stored as questions already; passages are read as questions here.
        vectors = {i: self.searcher.index.vectors[i] for i in rows if keys[i].kind == "question"}
        passages = [i for i in rows if keys[i].kind != "question"]
        if passages:
            embedded = self.searcher._embedder.embed_queries([_passage_body(keys[i]) for i in passages])
            vectors.update(zip(passages, embedded, strict=True))
        best = []
        for i in rows:
            scores = self.searcher.dense_key_scores(vectors[i])
            other = scores[owners != owners[i]]
            if len(other):
                best.append(float(other.max()))
        return float(np.median(best)) if best else 0.0

    def evidence(self, text: str, vector: np.ndarray) -> tuple[list[Hit], list[dict[str, float]]]:
        """Return the candidates (retrieval order) and each one's features."""
        hits, features = self._raw_evidence(text, vector)
        if features:
            null = self.null_reference()
            lang = message_lang(text)
            for feats in features:
                feats["cos_n"] = feats["cos"] - null.cos[lang]
                feats["cos_d"] = feats["cos"] - null.neighbour
                feats["lp_n"] = feats["log_answer_prob"] - null.log_prob[lang]
        return hits, features

    def _raw_evidence(self, text: str, vector: np.ndarray) -> tuple[list[Hit], list[dict[str, float]]]:
        texts = readings(text)
        vectors = [vector]
        if len(texts) > 1 and is_finglish(text):
            # Embedded once, for the search and for the evidence.
            vectors.append(self.searcher._embedder.embed_queries([texts[-1]])[0])
        hits = self.searcher.search(
            text, k=CANDIDATES, query_vector=vector, reading_vector=vectors[1] if len(vectors) > 1 else None
        )
        if not hits:
            return [], []
        classifier = self.searcher.index.classifier
        scores = classifier.scores(vector, text) if classifier is not None else None
        if scores is not None and len(vectors) > 1:
            # Finglish: the classifier learnt the KB in Persian letters, so its Persian reading speaks for it.
            reading = classifier.scores(vectors[1], texts[-1])
            if max(reading.probs.values(), default=0.0) > max(scores.probs.values(), default=0.0):
                scores = reading
        top_lexical = max(h.lexical for h in hits)
        features = []
        for hit in hits:
            prob = scores.probs.get(hit.article.id, 0.0) if scores else hit.score
            features.append(
                {
                    "log_prob": math.log(max(prob, 1e-4)) - (scores.log_prob_ref if scores else 0.0),
                    "novelty": scores.novelty - scores.background if scores else 0.0,
                    "p_out_of_scope": scores.p_out_of_scope if scores else 0.0,
                    "fused": hit.score,
                    "lexical": hit.lexical / top_lexical if top_lexical > 0 else 0.0,
                    "background": scores.background if scores else 0.0,
                    "prob": prob,
                }
            )
        extras = self.answer_evidence.features(texts, vectors, hits, [f["prob"] for f in features])
        for feats, extra in zip(features, extras, strict=True):
            feats.update(extra)
            # Among the articles only: the KB's out-of-scope class is evidence of its own (p_out_of_scope).
            in_scope = max(1e-4, 1.0 - (scores.p_out_of_scope if scores else 0.0))
            feats["log_answer_prob"] = math.log(max(extra["answer_prob"] / in_scope, 1e-4)) - (
                scores.log_prob_ref if scores else 0.0
            )
        return hits, features

    def choose(self, features: list[dict[str, float]]) -> int:
        """Index of the candidate to answer with."""
        w = self.choice_weight
        mixed = [w * f["fused"] + (1 - w) * f["prob"] for f in features]
        return int(np.argmax(mixed))

    def match(self, text: str, vector: np.ndarray) -> Match:
        """Find the answer for ``text`` (whose query embedding is ``vector``)."""
        hits, features = self.evidence(text, vector)
        if not hits:
            return Match(None, (), 0.0, dict.fromkeys(FEATURES, 0.0))
        best = self.choose(features)
        chosen = hits[best]
        ordered = (chosen, *(h for i, h in enumerate(hits) if i != best))
        return Match(chosen, ordered, self.calibrator.probability(features[best]), features[best])
