"""Words weighted by rarity: document frequencies kept incrementally, and what clustering reads
from them.

Why: with every word weighing the same, two fires in two towns share 起火, 消防车, 浓烟 and look
like one incident; what tells them apart is the rare words (the venue, the road, the place). The
weight of a word is its inverse document frequency over every post clustered so far,
`log(1 + N / df)`: counted as posts arrive (the store keeps the counts, `opinion_word_df`), never
recomputed in batch. Until WEIGHT_AFTER posts are counted the frequencies say little (in six posts
every word is rare or common by chance), so a young system clusters by the unweighted method.
"""
from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass, field

# A word in more than this share of the posts is no key of its own (it would lead everywhere).
KEY_MAX_SHARE = 0.02
KEYS_PER_POST = 3        # the rarest words of a post become candidate keys beside its MinHash bands
# The weight is the IDF squared: plain IDF spreads too little between a kind of incident's words
# (起火, 消防车: a few % of posts) and one incident's own (its venue, its road: a fraction of 1 %).
POWER = 2
# Posts counted before the weights (and rare-word keys) are trusted. On the demo site (a few
# hundred posts: news articles and short forum replies about one blast) weighting from 200 posts
# split the blast's reports apart (2 posts joined, 6-8 unweighted): counts from so few posts say
# little, and a long article and a short reply share few words whatever their weight.
WEIGHT_AFTER = 1000
KEYS_AFTER = WEIGHT_AFTER        # posts counted before rare-word keys are trusted (before: every word is rare)


def word_key(word: str) -> str:
    """A rare word as a key of the band index (fits its 16-character column; 'w' keeps it apart
    from the MinHash bands, which are '<band>:<hash>')."""
    return f"w{zlib.crc32(word.encode('utf-8')):08x}"


@dataclass
class WordRarity:
    """Document frequencies of the words seen: `df[word]` posts contained it, out of `n` posts."""
    df: Counter = field(default_factory=Counter)
    n: int = 0
    added: Counter = field(default_factory=Counter)   # what this batch counted (to be written)
    added_n: int = 0

    def observe(self, words) -> None:
        unique = set(words)
        self.df.update(unique)
        self.added.update(unique)
        self.n += 1
        self.added_n += 1

    @property
    def ready(self) -> bool:
        return self.n >= WEIGHT_AFTER

    def idf(self, word: str) -> float:
        return math.log(1.0 + max(self.n, 1) / max(self.df.get(word, 0), 1)) ** POWER

    def weighted_jaccard(self, a: frozenset[str], b: frozenset[str], memo: dict | None = None) -> float:
        """Shared weight over the union's weight: what two posts share, rare words counting most.
        `memo`: word -> weight, shared by the comparisons of one post (the counts do not move
        between them)."""
        if not a or not b:
            return 0.0
        memo = {} if memo is None else memo

        def weight(w: str) -> float:
            v = memo.get(w)
            if v is None:
                v = memo[w] = self.idf(w)
            return v

        shared = sum(weight(w) for w in a & b)
        union = shared + sum(weight(w) for w in a ^ b)
        return shared / union if union else 0.0

    def rare_keys(self, words) -> list[str]:
        """The post's rarest words (at most KEYS_PER_POST, each in at most KEY_MAX_SHARE of the
        posts) as keys: two reports of one incident that share its venue meet through them even
        when their MinHash bands miss each other."""
        if self.n < KEYS_AFTER:
            return []
        limit = KEY_MAX_SHARE * self.n
        rare = sorted((self.df.get(w, 0), w) for w in set(words) if self.df.get(w, 0) <= limit)
        return [word_key(w) for _df, w in rare[:KEYS_PER_POST]]
