"""Event clustering benchmark: incremental MinHash clustering of N synthetic posts (default
100,000), posts/s and peak memory, beside a baseline in the same run: exhaustive pairwise TF-IDF
cosine over a sample (default 10,000 posts), its time extrapolated to N by n². Then the ingest
hook through a real SQLite store: a 1,000-post batch updating the event view, after a warm-up.

    python -m bench.events_bench [--posts 100000] [--sample 10000] [--batch 1000] [--preload 5000]
"""
from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import timedelta

from bench.events_corpus import make_posts, pair_scores


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def incremental(posts, weighted: bool = True) -> tuple[dict[str, str], float, dict]:
    """The incremental clusterer over the posts in time order. `weighted`: words weighted by
    rarity (the method in use); False: the unweighted MinHash method it replaced (the baseline)."""
    from nlp.gazetteer import default_gazetteer
    from nlp.minhash import match_words, signature
    from patrol.events.clustering import BandIndex, Clusterer
    from patrol.events.rarity import WordRarity

    gazetteer = default_gazetteer()
    rarity = WordRarity() if weighted else None
    clusterer = Clusterer(BandIndex(), rarity=rarity)
    got: dict[str, str] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    unclustered = 0
    for p in sorted(posts, key=lambda p: (p.at, p.id)):
        words = frozenset(match_words(p.text))
        sig = signature(words)
        if sig is None:
            unclustered += 1
            continue
        if rarity is not None:
            rarity.observe(words)
        place = gazetteer.resolve(p.text)   # the place the text names, as the ingest hook passes it
        code = place.code if place.status == "resolved" else ""
        eid = clusterer.assign(p.id, sig, code, at=p.at, words=words).event_id
        got[p.id] = clusterer.index.live(eid)
    # Posts of events merged later point at the event they went into.
    got = {k: clusterer.index.live(v) for k, v in got.items()}
    return got, time.perf_counter() - t0, {"unclustered": unclustered, "events": len(set(got.values())),
                                           "cpu_seconds": round(time.process_time() - c0, 2)}


def quality(truth, got) -> dict:
    p, r, f = pair_scores(truth, got)
    return {"pair_precision": round(p, 3), "pair_recall": round(r, 3), "pair_f1": round(f, 3)}


def exhaustive_tfidf(posts, threshold: float = 0.3) -> tuple[dict[str, str], float]:
    """The baseline: every pair compared (TF-IDF over the same words, cosine), then each post
    joins the first earlier post it is similar enough to (single link over all pairs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from nlp.minhash import match_words

    t0, c0 = time.perf_counter(), time.process_time()
    docs = [" ".join(sorted(match_words(p.text))) for p in posts]
    x = TfidfVectorizer(token_pattern=r"\S+").fit_transform(docs)
    sims = (x @ x.T).tocsr()
    parent = list(range(len(posts)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(posts)):
        row = sims.getrow(i)
        for j, v in zip(row.indices, row.data):
            if j < i and v >= threshold:
                parent[find(i)] = find(j)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {p.id: f"c{find(i)}" for i, p in enumerate(posts)}, elapsed, cpu


def ingest_batches(posts, preload: int, batch: int) -> dict:
    from patrol.events.updater import EventUpdater
    from patrol.posts import RawPost
    from patrol.store import PostRecord, Store

    with tempfile.TemporaryDirectory() as d:
        store = Store(f"sqlite:///{d}/bench.db", password_rounds=4)
        now = max(p.at for p in posts) + timedelta(minutes=1)
        recs = [PostRecord.from_raw(RawPost(source=p.source, url=f"http://127.0.0.1/{p.id}", external_id=p.id,
                                            text=p.text, published_at=p.at, fetched_at=now)) for p in posts]
        updater = EventUpdater(store.events, store.trends)
        for i in range(0, len(recs), 1000):
            store.save_batch(recs[i:i + 1000], [], now)
        t0 = time.perf_counter()
        for i in range(0, preload, batch):
            updater.update(recs[i:i + batch], now)
        preload_s = time.perf_counter() - t0
        timings, cpu = [], []
        for i in range(preload, len(recs), batch):
            t, c = time.perf_counter(), time.process_time()
            updater.update(recs[i:i + batch], now)
            timings.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        store.close()
    return {"preloaded_posts": preload, "preload_seconds": round(preload_s, 2), "batch": batch,
            "batch_seconds": [round(t, 3) for t in timings], "batch_cpu_seconds": [round(t, 3) for t in cpu],
            "worst_batch_seconds": round(max(timings), 3)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--incidents", type=int, default=0, help="default: posts / 200")
    ap.add_argument("--sample", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--preload", type=int, default=5000)
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-exhaustive", action="store_true", help="leave out the O(n²) TF-IDF baseline")
    ap.add_argument("--skip-ingest", action="store_true", help="leave out the store-backed ingest batches")
    args = ap.parse_args(argv)
    incidents = args.incidents or max(5, args.posts // 200)
    posts = make_posts(args.posts, incidents, seed=args.seed, hours=72)
    truth = {p.id: p.incident for p in posts}

    # Warm the segmenter and numpy once, outside the timings (a server has them loaded); every
    # module the run uses is imported now, so the run measures one version of the code.
    import patrol.events.updater  # noqa: F401
    from nlp.minhash import match_words
    match_words("预热分词器")

    rss0 = _rss_mb()
    got, secs, stats = incremental(posts)
    result = {"posts": args.posts, "incidents": incidents,
              "incremental_weighted": {"seconds": round(secs, 2), "posts_per_s": round(args.posts / secs),
                                       "peak_rss_mb": round(_rss_mb(), 1), "rss_growth_mb": round(_rss_mb() - rss0, 1),
                                       **quality(truth, got), **stats}}
    b_got, b_secs, b_stats = incremental(posts, weighted=False)
    result["baseline_unweighted_minhash"] = {"seconds": round(b_secs, 2), "posts_per_s": round(args.posts / b_secs),
                                             **quality(truth, b_got), **b_stats}

    sample = posts[: args.sample]
    s_truth = {p.id: p.incident for p in sample}
    s_got, s_secs, _s = incremental(sample)
    u_got, u_secs, _u = incremental(sample, weighted=False)
    result["sample"] = {
        "posts": len(sample),
        "incremental_weighted": {"seconds": round(s_secs, 2), "cpu_seconds": _s["cpu_seconds"],
                                 **quality(s_truth, s_got)},
        "baseline_unweighted_minhash": {"seconds": round(u_secs, 2), "cpu_seconds": _u["cpu_seconds"],
                                        **quality(s_truth, u_got)},
    }
    if not args.skip_exhaustive:
        base, e_secs, e_cpu = exhaustive_tfidf(sample)
        scale = (args.posts / len(sample)) ** 2
        result["sample"]["baseline_exhaustive_tfidf"] = {
            "seconds": round(e_secs, 2), "cpu_seconds": round(e_cpu, 2), **quality(s_truth, base),
            "extrapolated_cpu_seconds_at_posts": round(e_cpu * scale, 1),
            "extrapolated_seconds_at_posts": round(e_secs * scale, 1),
            "extrapolated_posts_per_s": round(args.posts / (e_secs * scale), 1)}
    result["sample"]["peak_rss_mb"] = round(_rss_mb(), 1)
    if args.skip_ingest:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return result
    n_ingest = args.preload + args.batch * args.batches
    result["ingest"] = ingest_batches(posts[:n_ingest], args.preload, args.batch)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return result


if __name__ == "__main__":
    main()
