"""Pages in the markup of a Discuz! X3 forum, so the crawler is tested against what real boards serve."""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from html import escape

from demosite.catalogue import Board, Catalogue, Floor, Thread

MISSING_THREAD = "抱歉，指定的主题不存在或已被删除或正在被审核"


def absolute(t: datetime) -> str:
    # Discuz prints months, days and hours without zero padding ("2026-11-5 9:03").
    return f"{t.year}-{t.month}-{t.day} {t.hour}:{t.minute:02d}"


def relative(t: datetime, now: datetime) -> str | None:
    """Discuz's dgmdate(…, 'u'): a relative phrase for the last week, None beyond it."""
    seconds = int((now - t).total_seconds())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if t >= today:
        if seconds >= 3600:
            return f"{seconds // 3600}&nbsp;小时前"
        if seconds >= 1800:
            return "半小时前"
        if seconds >= 60:
            return f"{seconds // 60}&nbsp;分钟前"
        return f"{seconds}&nbsp;秒前" if seconds > 0 else "刚刚"
    days = (today - t).days + 1
    if days == 1:
        return f"昨天&nbsp;{t.hour}:{t.minute:02d}"
    if days == 2:
        return f"前天&nbsp;{t.hour}:{t.minute:02d}"
    if days <= 7:
        return f"{days}&nbsp;天前"
    return None


def time_html(t: datetime, now: datetime, board: Board, wrap: bool = False) -> str:
    phrase = relative(t, now)
    if phrase is None:
        return f"<span>{absolute(t)}</span>" if wrap else absolute(t)
    if board.relative_titles:
        return f'<span title="{absolute(t)}">{phrase}</span>'
    return f"<span>{phrase}</span>"


def _head(title: str, charset: str, site: str) -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="{charset}" />
<title>{escape(title)} - {escape(site)} - Powered by Discuz!</title>
<meta name="generator" content="Discuz! X3.4" />
<link rel="stylesheet" type="text/css" href="data/cache/style_1_common.css?v=x34" />
<script src="static/js/common.js?x34" type="text/javascript"></script>
</head>
<body id="nv_forum" class="pg_forumdisplay" onkeydown="if(event.keyCode==27) return false;">
<div id="toptb" class="cl"><div class="wp"><div class="z"><a href="./">{escape(site)}</a></div>
<div class="y"><a href="member.php?mod=register">注册</a> <a href="member.php?mod=logging&amp;action=login">登录</a></div></div></div>
<div id="wp" class="wp">
"""


_FOOT = """</div>
<div id="ft" class="wp cl"><div id="flk" class="y"><p><a href="archiver/">Archiver</a><span class="pipe">|</span><a href="forum.php?mobile=yes">手机版</a></p></div>
<div id="frt"><p>Powered by <strong><a href="http://www.discuz.net" target="_blank">Discuz!</a></strong> <em>X3.4</em></p></div></div>
<script type="text/javascript">_attachEvent(window, 'scroll', function () { showTopLink(); });</script>
</body>
</html>
"""


def _pager(base: str, page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    links = []
    if page > 1:
        links.append(f'<a href="{base}&amp;page={page - 1}" class="prev">&nbsp;&nbsp;</a>')
    for p in range(1, pages + 1):
        links.append(f"<strong>{p}</strong>" if p == page else f'<a href="{base}&amp;page={p}">{p}</a>')
    links.append(f'<label><input type="text" name="custompage" class="px" size="2" value="{page}" /><span title="共 {pages} 页"> / {pages} 页</span></label>')
    if page < pages:
        links.append(f'<a href="{base}&amp;page={page + 1}" class="nxt">下一页</a>')
    return f'<div class="pg">{"".join(links)}</div>'


def index_page(cat: Catalogue, now: datetime) -> str:
    rows = "\n".join(
        f'<tr><td class="fl_g"><dl><dt><a href="forum.php?mod=forumdisplay&amp;fid={b.fid}">{escape(b.name)}</a></dt>'
        f"<dd>主题: <em>{len(cat.board_threads(b.fid))}</em></dd></dl></td></tr>"
        for b in cat.boards.values()
    )
    return _head("首页", "utf-8", cat.site_name) + f'<div class="fl bm"><table class="fl_tb">{rows}</table></div>' + _FOOT


def thread_list_page(cat: Catalogue, board: Board, page: int, now: datetime) -> tuple[str, int]:
    threads = cat.board_threads(board.fid)
    pages = max(1, math.ceil(len(threads) / cat.threads_per_page))
    page = min(max(page, 1), pages)
    shown = threads[(page - 1) * cat.threads_per_page: page * cat.threads_per_page]
    bodies = []
    for t in shown:
        kind = "stickthread" if t.sticky else "normalthread"
        first, last = t.floors[0], t.last_post
        views = (t.tid * 37) % 900 + 40 + t.replies * 11
        bodies.append(f"""<tbody id="{kind}_{t.tid}">
<tr>
<td class="icn"><a href="forum.php?mod=viewthread&amp;tid={t.tid}&amp;extra=page%3D{page}" title="新窗口打开" target="_blank"><img src="static/image/common/folder_common.gif" /></a></td>
<th class="common">
<a href="javascript:;" id="content_{t.tid}" class="showcontent y" title="更多操作" onclick="CONTENT_TID='{t.tid}';CONTENT_ID='{kind}_{t.tid}';showMenu({{'ctrlid':this.id,'menuid':'content_menu'}})"></a>
{'<img src="static/image/common/pin_1.gif" alt="本版置顶" /> ' if t.sticky else ''}<a href="forum.php?mod=viewthread&amp;tid={t.tid}&amp;extra=page%3D{page}" onclick="atarget(this)" class="s xst">{escape(t.title)}</a>
</th>
<td class="by">
<cite><a href="home.php?mod=space&amp;uid={first.pid % 9000 + 10}" c="1">{escape(first.author)}</a></cite>
<em>{time_html(first.posted, now, board, wrap=True)}</em>
</td>
<td class="num"><a href="forum.php?mod=viewthread&amp;tid={t.tid}&amp;extra=page%3D{page}" class="xi2">{t.replies}</a><em>{views}</em></td>
<td class="by">
<cite><a href="home.php?mod=space&amp;username={escape(last.author)}" c="1">{escape(last.author)}</a></cite>
<em><a href="forum.php?mod=redirect&amp;tid={t.tid}&amp;goto=lastpost#lastpost">{time_html(last.posted, now, board)}</a></em>
</td>
</tr>
</tbody>""")
    base = f"forum.php?mod=forumdisplay&amp;fid={board.fid}"
    html = _head(board.name, board.charset, cat.site_name) + f"""<div id="pt" class="bm cl"><div class="z"><a href="./" class="nvhm" title="首页">{escape(cat.site_name)}</a> <em>&rsaquo;</em> <a href="{base}">{escape(board.name)}</a></div></div>
<div class="boardnav"><div id="ct" class="wp cl">
<div class="bm bml pbn"><div class="bm_h cl"><h1 class="xs2"><a href="{base}">{escape(board.name)}</a> <span class="xs1 xw0 i">今日: <strong class="xi1">{len(threads)}</strong></span></h1></div></div>
<div id="pgt" class="bm bw0 pgs cl">{_pager(base, page, pages)}</div>
<div id="threadlist" class="tl bm bmw"><div class="bm_c">
<form method="post" autocomplete="off" name="moderate" id="moderate" action="forum.php?mod=topicadmin&amp;action=moderate&amp;fid={board.fid}&amp;infloat=yes&amp;nopost=yes">
<table summary="forum_{board.fid}" cellspacing="0" cellpadding="0" id="threadlisttableid">
<tbody id="separatorline" class="emptb"><tr class="ts"><td>&nbsp;</td><th>版块主题</th><td>&nbsp;</td></tr></tbody>
{chr(10).join(bodies)}
</table></form></div></div>
<div class="bm bw0 pgs cl">{_pager(base, page, pages)}</div>
</div></div>
""" + _FOOT
    return html, page


def _jammer(floor: Floor) -> str:
    # Discuz's anti-copy noise: random characters hidden from readers, visible to naive scrapers.
    return f'<font class="jammer">{floor.pid * 7919 % 100000:05d}</font>\r\n<span style="display:none">pid{floor.pid}</span>'


def _floor_html(thread: Thread, floor: Floor, board: Board, now: datetime, with_jammer: bool) -> str:
    uid = floor.pid % 9000 + 10
    if floor.blocked:
        message = '<div class="locked">提示: <em>作者被禁止或删除 内容自动屏蔽</em></div>'
    else:
        lines = [escape(line) for line in floor.text.split("\n")]
        if with_jammer and len(lines) >= 1:
            lines[0] = lines[0] + _jammer(floor)
        body = "<br />\r\n".join(lines)
        if floor.edited:
            body = f'<i class="pstatus"> 本帖最后由 {escape(floor.author)} 于 {absolute(floor.posted + timedelta(minutes=5))} 编辑 </i><br />\r\n' + body
        if floor.quote_of is not None:
            quoted = thread.floors[floor.quote_of]
            excerpt = escape(quoted.text[:40])
            body = (f'<div class="quote"><blockquote><font size="2"><a href="forum.php?mod=redirect&amp;goto=findpost&amp;pid={quoted.pid}&amp;ptid={thread.tid}" target="_blank">'
                    f'<font color="#999999">{escape(quoted.author)} 发表于 {absolute(quoted.posted)}</font></a></font><br />\r\n{excerpt} ...</blockquote></div><br />\r\n') + body
        message = f'<table cellspacing="0" cellpadding="0"><tr><td class="t_f" id="postmessage_{floor.pid}">\r\n{body}</td></tr></table>'
    number = "楼主" if floor.number == 1 else f"{floor.number}<sup>#</sup>"
    return f"""<div id="post_{floor.pid}">
<table id="pid{floor.pid}" class="plhin" summary="pid{floor.pid}" cellspacing="0" cellpadding="0">
<tr>
<td class="pls" rowspan="2">
<div id="favatar{floor.pid}" class="pls favatar">
<div class="pi"><div class="authi"><a href="home.php?mod=space&amp;uid={uid}" target="_blank" class="xw1">{escape(floor.author)}</a></div></div>
<div><div class="avatar"><a href="home.php?mod=space&amp;uid={uid}" class="avtm" target="_blank"><img src="uc_server/avatar.php?uid={uid}&amp;size=middle" /></a></div></div>
</div>
</td>
<td class="plc">
<div class="pi">
<strong><a href="forum.php?mod=redirect&amp;goto=findpost&amp;ptid={thread.tid}&amp;pid={floor.pid}" id="postnum{floor.pid}" onclick="setCopy(this.href, '帖子地址复制成功');return false;">{number}</a></strong>
<div class="pti"><div class="pdbt"></div>
<div class="authi">
<img class="authicn vm" id="authicon{floor.pid}" src="static/image/common/online_member.gif" />
<em id="authorposton{floor.pid}">发表于 {time_html(floor.posted, now, board)}</em>
<span class="pipe">|</span><a href="forum.php?mod=viewthread&amp;tid={thread.tid}&amp;page=1&amp;authorid={uid}" rel="nofollow">只看该作者</a>
</div></div>
</div>
<div class="pct"><div class="pcb"><div class="t_fsz">
{message}
</div></div></div>
</td></tr>
<tr><td class="plc plm"></td></tr>
</table>
</div>"""


def thread_page(cat: Catalogue, thread: Thread, page: int, now: datetime) -> tuple[str, int]:
    board = cat.boards[thread.fid]
    per = cat.posts_per_page
    pages = max(1, math.ceil(len(thread.floors) / per))
    page = min(max(page, 1), pages)
    floors = thread.floors[(page - 1) * per: page * per]
    # Jammer noise on some threads only, as on real boards where it is a per-board setting.
    with_jammer = thread.tid % 4 == 0
    posts = "\n".join(_floor_html(thread, f, board, now, with_jammer) for f in floors)
    base = f"forum.php?mod=viewthread&amp;tid={thread.tid}&amp;extra="
    html = _head(thread.title, board.charset, cat.site_name) + f"""<div id="pt" class="bm cl"><div class="z"><a href="./" class="nvhm">{escape(cat.site_name)}</a> <em>&rsaquo;</em> <a href="forum.php?mod=forumdisplay&amp;fid={board.fid}">{escape(board.name)}</a> <em>&rsaquo;</em> <a href="forum.php?mod=viewthread&amp;tid={thread.tid}">{escape(thread.title)}</a></div></div>
<div id="ct" class="wp cl">
<div id="pgt" class="pgs mbm cl">{_pager(base, page, pages)}</div>
<div id="postlist" class="pl bm">
<table cellspacing="0" cellpadding="0"><tr><td class="pls ptn pbn"><div class="hm ptn"><span class="xg1">查看:</span> <span class="xi1">{thread.tid * 37 % 900}</span><span class="pipe">|</span><span class="xg1">回复:</span> <span class="xi1">{thread.replies}</span></div></td>
<td class="plc ptm pbn vwthd"><h1 class="ts"><span id="thread_subject">{escape(thread.title)}</span></h1></td></tr></table>
{posts}
</div>
<div class="pgs mtm mbm cl">{_pager(base, page, pages)}</div>
</div>
""" + _FOOT
    return html, page


def message_page(cat: Catalogue, message: str, charset: str = "utf-8") -> str:
    return _head("提示信息", charset, cat.site_name) + f"""<div id="ct" class="wp cm cl"><div class="nfl" id="main_succeed" style="display: none"></div>
<div class="nfl"><div class="f_c altw"><div id="messagetext" class="alert_error"><p>{escape(message)}</p>
<script type="text/javascript">if(history.length > (BROWSER.ie ? 0 : 1)) {{ document.write('<p class="alert_btnleft"><a href="javascript:history.back()">[ 点击这里返回上一页 ]</a></p>'); }}</script></div></div></div></div>
""" + _FOOT
