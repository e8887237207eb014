from datetime import timedelta

import pytest

from crawlers.sources import SourcesFileError, load_sources, parse_interval, select_sources

GOOD = """
sources:
  - name: city-forum
    kind: discuz
    url: https://bbs.example.cn/forum.php?mod=forumdisplay&fid=2
    interval: 15m
    max_pages: 20
  - name: city-blog
    kind: html
    url: https://blog.example.cn/list
    selectors: {item: "article.entry", link: "a.permalink", next: "a[rel=next]", body: "div.content"}
  - name: fedi
    kind: mastodon
    url: https://mastodon.example
    tag: 临江
    overrides: {download_delay: 2, encoding: gb18030}
"""


def write(tmp_path, text):
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_every_source_in_order(tmp_path):
    sources = load_sources(write(tmp_path, GOOD))
    assert [s.name for s in sources] == ["city-forum", "city-blog", "fedi"]
    assert sources[0].interval_delta == timedelta(minutes=15)
    assert sources[2].overrides.encoding == "gb18030"


def refusal(tmp_path, text) -> SourcesFileError:
    path = write(tmp_path, text)
    with pytest.raises(SourcesFileError) as caught:
        load_sources(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_an_unknown_kind_is_refused_naming_file_source_and_key(tmp_path):
    error = refusal(tmp_path, GOOD.replace("kind: discuz", "kind: forum"))
    assert "'city-forum'" in str(error) and "key 'kind'" in str(error) and "discuz" in str(error)


def test_one_broken_source_refuses_the_whole_file(tmp_path):
    error = refusal(tmp_path, GOOD.replace("interval: 15m", "interval: often"))
    assert "nothing was loaded" in str(error)
    assert "'city-forum'" in str(error) and "key 'interval'" in str(error)


def test_every_problem_is_reported_at_once(tmp_path):
    text = GOOD.replace("interval: 15m", "interval: 0m").replace("url: https://mastodon.example", "url: mastodon.example")
    error = refusal(tmp_path, text)
    assert len(error.problems) == 2
    assert any("'fedi'" in p and "key 'url'" in p for p in error.problems)


def test_duplicate_names_are_refused(tmp_path):
    error = refusal(tmp_path, GOOD.replace("name: fedi", "name: city-forum"))
    assert "source #3 ('city-forum'): key 'name': duplicate of source #1" in str(error)


def test_an_unknown_key_is_named(tmp_path):
    error = refusal(tmp_path, GOOD.replace("max_pages: 20", "max_page: 20"))
    assert "key 'max_page': unknown key" in str(error)


def test_a_source_without_a_name_is_named_by_its_position(tmp_path):
    error = refusal(tmp_path, GOOD.replace("  - name: city-blog\n", "  - description: x\n"))
    assert "source #2" in str(error) and "key 'name'" in str(error)


def test_html_sources_need_their_selectors(tmp_path):
    error = refusal(tmp_path, GOOD.replace('link: "a.permalink", ', ""))
    assert "'city-blog'" in str(error) and "selectors" in str(error) and "link" in str(error)


def test_selectors_on_other_kinds_are_refused(tmp_path):
    text = GOOD.replace("    max_pages: 20\n", "    max_pages: 20\n    selectors: {item: a}\n")
    assert "only kind html takes selectors" in str(refusal(tmp_path, text))


def test_yaml_syntax_errors_carry_the_line_number(tmp_path):
    error = refusal(tmp_path, GOOD.replace("    interval: 15m", "    interval: [15m"))
    assert "YAML syntax error at line" in str(error)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SourcesFileError, match="file not found"):
        load_sources(tmp_path / "nope.yaml")


def test_a_file_without_a_sources_list_is_refused(tmp_path):
    assert "sources" in str(refusal(tmp_path, "- name: a\n"))


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400)])
def test_intervals_read_as_durations(text, seconds):
    assert parse_interval(text).total_seconds() == seconds


def test_selecting_an_unknown_source_name_is_an_error_not_an_empty_crawl(tmp_path):
    sources = load_sources(write(tmp_path, GOOD))
    assert [s.name for s in select_sources(sources, ["fedi"])] == ["fedi"]
    with pytest.raises(KeyError, match="nope"):
        select_sources(sources, ["nope"])


def test_every_kind_the_sources_file_accepts_has_a_spider():
    from crawlers.sources import KINDS
    from crawlers.spiders import SPIDERS

    assert set(KINDS) == set(SPIDERS)
