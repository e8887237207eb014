"""The small parts of the crawler: charset choice, page text, pipelines, Retry-After."""
from datetime import datetime, timedelta, timezone

import pytest
from scrapy.exceptions import DropItem

from crawlers.charset import best_encoding
from crawlers.items import PostItem
from crawlers.middlewares import retry_after_seconds
from crawlers.page_text import visible_text
from crawlers.pipelines import DuplicateFilterPipeline, IngestPipeline

CHINESE = "临江社区论坛：二手市场，出一辆九成新的儿童自行车。"


def test_gbk_bytes_declared_as_utf8_are_read_as_gbk():
    assert best_encoding(CHINESE.encode("gbk"), "utf-8") in ("gb18030", "gbk")


def test_utf8_bytes_declared_as_gbk_are_read_as_utf8():
    assert best_encoding(CHINESE.encode("utf-8"), "gbk") == "utf-8"


def test_a_correct_declaration_is_kept():
    assert best_encoding(CHINESE.encode("gbk"), "gbk") == "gbk"
    assert best_encoding(CHINESE.encode("utf-8"), "utf-8") == "utf-8"


def test_page_text_keeps_line_breaks_and_drops_noise_and_quotes():
    html = ('<div class="quote"><blockquote>被引用的话</blockquote></div><br />\r\n'
            '第一行<font class="jammer">x9k2</font>\r\n<span style="display:none">噪声</span><br />\r\n'
            '第二行 &#128039;<script>var a=1;</script>')
    assert visible_text(html, ("div.quote", ".jammer")) == "第一行\n第二行 🐧"


def test_source_newlines_in_html_are_spaces_not_line_breaks():
    assert visible_text("<p>一句话\r\n接着说</p>") == "一句话 接着说"


class Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, amount=1):
        self.values[key] = self.values.get(key, 0) + amount


def item(external_id, source="s"):
    return PostItem(source=source, url=f"http://x/{external_id}", external_id=external_id, body="正文")


def test_a_repeated_post_within_a_run_is_dropped_and_counted():
    stats = Stats()
    pipeline = DuplicateFilterPipeline(stats)
    pipeline.process_item(item("1-1"))
    pipeline.process_item(item("1-1", source="other"))  # same id on another source is another post
    with pytest.raises(DropItem):
        pipeline.process_item(item("1-1"))
    assert stats.values["patrol/duplicates_dropped"] == 1


def test_items_reach_ingest_in_batches_and_the_rest_on_close():
    calls = []
    stats = Stats()
    pipeline = IngestPipeline(lambda batch: calls.append([p.external_id for p in batch]), 2, stats)
    for n in range(5):
        pipeline.process_item(item(str(n)))
    assert calls == [["0", "1"], ["2", "3"]]
    pipeline.close_spider()
    assert calls[-1] == ["4"]
    assert stats.values["patrol/ingested"] == 5


def test_an_item_becomes_a_raw_post_with_every_field():
    published = datetime(2026, 11, 20, 6, 20, tzinfo=timezone.utc)
    post = PostItem(source="s", url="http://x/1", external_id="1-2", body="正文", title="标题", author="甲",
                    published_at=published, content_sha256="ab" * 32, deleted_upstream=True).to_raw_post()
    assert (post.text, post.title, post.author, post.published_at, post.content_sha256, post.deleted_upstream) == (
        "正文", "标题", "甲", published, "ab" * 32, True)


def test_a_naive_published_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        PostItem(source="s", url="u", external_id="1", body="b", published_at=datetime(2026, 11, 20))


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Fri, 20 Nov 2026 06:00:30 GMT", now) == 30.0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds((now - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 0.0
