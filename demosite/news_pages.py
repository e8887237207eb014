"""The demo news site: an RSS 2.0 feed (some items with full text, some with only a link) and article pages."""
from __future__ import annotations

from email.utils import format_datetime
from html import escape

from demosite.catalogue import Catalogue, NewsItem


def article_path(item: NewsItem) -> str:
    return f"/news/article/{item.id}.html"


def guid(item: NewsItem) -> str:
    # Not the link: the demo site listens on a random port, and an id with the port in it would
    # make every restart of `patrol demo` store each article again as a new post.
    return f"linjiang-news-{item.id}"


def feed_xml(cat: Catalogue, base_url: str) -> str:
    items = []
    for item in cat.news:
        link = base_url + article_path(item)
        content = ""
        if item.inline:
            html = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
            content = f"\n      <content:encoded><![CDATA[{html}]]></content:encoded>"
        items.append(f"""    <item>
      <title>{escape(item.title)}</title>
      <link>{escape(link)}</link>
      <guid isPermaLink="false">{guid(item)}</guid>
      <dc:creator>{escape(item.author)}</dc:creator>
      <pubDate>{format_datetime(item.published)}</pubDate>
      <description>{escape(item.paragraphs[0][:60])}…</description>{content}
    </item>""")
    newest = cat.news[0].published if cat.news else cat.anchor
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>临江新闻网 - 本地新闻</title>
    <link>{escape(base_url)}/news/</link>
    <atom:link href="{escape(base_url)}/news/rss.xml" rel="self" type="application/rss+xml" />
    <description>临江本地新闻、民生、交通、天气</description>
    <language>zh-cn</language>
    <lastBuildDate>{format_datetime(newest)}</lastBuildDate>
{chr(10).join(items)}
  </channel>
</rss>
"""


def article_html(item: NewsItem, cat: Catalogue) -> str:
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
    related = "\n".join(
        f'<li><a href="{article_path(other)}">{escape(other.title)}</a></li>'
        for other in cat.news if other.id != item.id
    )[:2000]
    stamp = item.published.strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{escape(item.title)}_临江新闻网</title>
<meta name="description" content="{escape(item.paragraphs[0][:80])}">
<meta property="og:title" content="{escape(item.title)}">
<meta property="article:published_time" content="{item.published.isoformat()}">
<link rel="stylesheet" href="/static/news.css">
</head>
<body>
<header class="site-header"><a class="logo" href="/news/">临江新闻网</a>
<nav><a href="/news/">首页</a> <a href="/news/">时政</a> <a href="/news/">民生</a> <a href="/news/">交通</a> <a href="/news/">天气</a> <a href="/forum.php">社区论坛</a></nav>
<form class="search"><input name="q" placeholder="搜索新闻"><button>搜索</button></form></header>
<div class="breadcrumb"><a href="/news/">首页</a> &gt; <a href="/news/">本地新闻</a> &gt; 正文</div>
<main>
<article class="news-article">
<h1>{escape(item.title)}</h1>
<div class="meta"><span class="source">来源：{escape(item.author)}</span> <time datetime="{item.published.isoformat()}">{stamp}</time> <span class="editor">责任编辑：周编辑</span></div>
<div class="content">
{paragraphs}
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
</article>
<aside class="related"><h2>相关新闻</h2><ul>
{related}
</ul></aside>
</main>
<footer><p>临江新闻网版权所有 未经授权禁止转载</p><p>违法和不良信息举报电话：12377</p></footer>
</body>
</html>
"""
