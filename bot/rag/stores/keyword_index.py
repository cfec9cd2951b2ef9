"""BM25 over the in-memory chunk copy, so the keyword leg of a query costs a fraction of a millisecond.

LanceDB's full-text search answers in about 10 ms on a 2-core machine for a few thousand chunks,
most of it crossing from Python into its async runtime and back eight times; that was a third of a
whole `kbot search`. Once the chunk copy is in memory, a term's postings are two small arrays and a
query is a few scatter-adds over the rows the asker may see.

The analysis is LanceDB's default: split on anything not a letter or digit, drop tokens over 40
characters, lower-case, Snowball English stems, drop English stop words, fold accents; and
the scoring is the same BM25 (k1 1.2, b 0.75, idf over the whole table), so rankings agree with
LanceDB's own up to ties. The stop words are those of the LanceDB release installed
(`stop_words_for`): a term LanceDB keeps counts towards a passage's length, so a list that differs by
one word moves every score.
"""

# Imports inside functions: PyStemmer loads at the first keyword search.

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

K1 = 1.2
B = 0.75
MAX_TOKEN_CHARS = 40
# The English stop words LanceDB's `remove_stop_words` drops (NLTK's list), matched after stemming
# as LanceDB does: "having" goes (stem "have"), "does" stays (stem "doe").
_NLTK_ENGLISH = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers "
    "herself it its itself they them their theirs themselves what which who whom this that these those am is "
    "are was were be been being have has had having do does did doing a an the and but if or because as until "
    "while of at by for with about against between into through during before after above below to from up "
    "down in out on off over under again further then once here there when where why how all any both each "
    "few more most other some such no nor not only own same so than too very s t can will just don should now "
    "d ll m o re ve y ain aren couldn didn doesn hadn hasn haven isn ma mightn mustn needn shan shouldn wasn "
    "weren won wouldn"
)
STOP_WORDS = frozenset(_NLTK_ENGLISH.split())
# LanceDB 0.41 keeps negations and the fragments of contractions ("not", "no", "don", "s", "ll", ...):
# found by indexing each NLTK stop word with LanceDB and searching for it.
_KEPT_SINCE_0_41 = frozenset({
    "ain", "aren", "couldn", "d", "didn", "doesn", "don", "hadn", "hasn", "haven", "isn", "ll", "m", "ma", "mightn",
    "mustn", "needn", "no", "nor", "not", "o", "s", "shan", "shouldn", "t", "ve", "wasn", "weren", "won", "wouldn", "y",
})


def stop_words_for(lancedb_version: str) -> frozenset[str]:
    """The stop words the given LanceDB release drops (compared as stems, as LanceDB does)."""
    major, minor = (int(part) for part in (lancedb_version.split(".") + ["0", "0"])[:2])
    return STOP_WORDS - _KEPT_SINCE_0_41 if (major, minor) >= (0, 41) else STOP_WORDS


def installed_stop_words() -> frozenset[str]:
    """The stop words of the LanceDB installed here, which answers when the copy in memory cannot."""
    from importlib.metadata import version

    return stop_words_for(version("lancedb"))
_TOKEN = re.compile(r"[^\W_]+")
_SEPARATORS = r"[^\pL\pN]+"  # the same split in RE2 (Arrow's regex engine): letters and digits make tokens


class Analyzer:
    """Text to index terms; each distinct token is analysed once (a corpus repeats a small vocabulary)."""

    def __init__(self, stop_words: frozenset[str] | None = None) -> None:
        import Stemmer  # PyStemmer: the Snowball stemmers in C

        self._stem_words = Stemmer.Stemmer("english").stemWords
        self._stop_words = installed_stop_words() if stop_words is None else stop_words
        self._terms: dict[str, str | None] = {}

    def learn(self, tokens: Iterable[str]) -> None:
        """Analyse the tokens not seen yet, in one call to the stemmer."""
        new = [t for t in set(tokens) if t not in self._terms]
        for token, stem in zip(new, self._stem_words([t.lower() for t in new]), strict=True):
            self._terms[token] = _term(token, stem, self._stop_words)

    def known(self) -> dict[str, str | None]:
        """Every token analysed so far and its term (None: not indexed)."""
        return self._terms

    def terms(self, text: str) -> list[str]:
        tokens = _TOKEN.findall(text)
        self.learn(tokens)
        known = self._terms
        return [term for token in tokens if (term := known[token]) is not None]


def _term(token: str, stem: str, stop_words: frozenset[str]) -> str | None:
    if len(token) > MAX_TOKEN_CHARS or stem in stop_words:
        return None
    if not stem.isascii():
        stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode() or stem
    return stem


@dataclass
class KeywordIndex:
    """Postings sorted by term: the rows of term t are `rows[starts[t]:starts[t + 1]]`, each with its
    BM25 weight for t (idf × saturated term frequency) in `weights`."""

    term_ids: dict[str, int]
    starts: np.ndarray
    rows: np.ndarray
    weights: np.ndarray
    size: int
    analyzer: Analyzer

    @classmethod
    def build(cls, texts: Iterable[str | None] | pa.Array, analyzer: Analyzer | None = None) -> KeywordIndex:
        """Tokenised by Arrow's compute kernels, which let go of the GIL: a build beside a running bot
        (after every upload) used to hold it for a second at 10k chunks and slow every query meanwhile."""
        analyzer = analyzer or Analyzer()
        column = texts if isinstance(texts, pa.Array) else pa.array(list(texts), type=pa.string())
        parts = pc.split_pattern_regex(pc.fill_null(column, ""), pattern=_SEPARATORS)
        lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False).astype(np.int64)
        tokens = pc.dictionary_encode(pc.list_flatten(parts))  # each distinct token analysed once
        vocabulary_tokens = tokens.dictionary.to_pylist()
        analyzer.learn(t for t in vocabulary_tokens if t)
        known = analyzer.known()
        term_ids: dict[str, int] = {}
        token_ids = np.array([-1 if not token or (term := known[token]) is None
                              else term_ids.setdefault(term, len(term_ids)) for token in vocabulary_tokens]
                             or [-1], dtype=np.int64)
        size, vocabulary = len(lengths), max(len(term_ids), 1)
        ids = token_ids[tokens.indices.to_numpy(zero_copy_only=False)]
        row_of = np.repeat(np.arange(size, dtype=np.int64), lengths)
        kept = ids >= 0
        ids, row_of = ids[kept], row_of[kept]
        lengths = np.bincount(row_of, minlength=size).astype(np.float32)
        average = float(lengths.mean()) if size and lengths.mean() > 0 else 1.0
        # One entry per (term, row), sorted by term then row, with how often the term occurs there.
        pairs, tf = np.unique(ids * size + row_of, return_counts=True)
        terms, rows = pairs // max(size, 1), pairs % max(size, 1)
        frequency = np.bincount(terms, minlength=vocabulary).astype(np.float64)
        idf = np.log(1.0 + (size - frequency + 0.5) / (frequency + 0.5))
        tf = tf.astype(np.float32)
        norm = K1 * (1.0 - B + B * lengths[rows] / average)
        weights = (idf[terms] * tf * (K1 + 1.0) / (tf + norm)).astype(np.float32)
        starts = np.concatenate([[0], np.cumsum(np.bincount(terms, minlength=vocabulary))]).astype(np.int64)
        return cls(term_ids=term_ids, starts=starts, rows=rows.astype(np.int32), weights=weights, size=size,
                   analyzer=analyzer)

    def search(self, query: str, allowed: np.ndarray | None, top_k: int) -> list[tuple[int, float]]:
        """(row, score) of the top_k rows matching any query term, among `allowed` rows (a boolean
        mask; None: all), best first; ties keep row order."""
        found = [self.term_ids[t] for t in dict.fromkeys(self.analyzer.terms(query)) if t in self.term_ids]
        if not found or top_k <= 0:
            return []
        scores = np.zeros(self.size, dtype=np.float32)
        for term in found:
            at = slice(self.starts[term], self.starts[term + 1])
            scores[self.rows[at]] += self.weights[at]
        if allowed is not None:
            scores[~allowed] = 0.0
        matched = np.flatnonzero(scores > 0.0)
        if len(matched) > top_k:
            matched = matched[np.argpartition(-scores[matched], top_k - 1)[:top_k]]
        ranked = matched[np.lexsort((matched, -scores[matched]))]
        return [(int(row), float(scores[row])) for row in ranked]
