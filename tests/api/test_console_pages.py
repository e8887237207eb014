"""The console's other pages (api/routes/console_pages.py): who may open them, what they show,
bad input answered in Chinese, the evidence package and the offline API docs."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from patrol.posts import sha256_hex
from patrol.reviews import Decision


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login(client, name: str):
    page = client.get("/console/login")
    r = client.post("/console/login", data={"username": name, "password": f"pw-{name}-secret",
                                            "csrf_token": csrf_of(page.text), "next": "/console/"},
                    follow_redirects=False)
    assert r.status_code == 303
    return client


@pytest.mark.parametrize("path", ["/console/dashboard", "/console/handover", "/console/audit", "/console/admin",
                                  "/console/admin/rules", "/console/alerts/x/evidence.zip"])
def test_the_pages_need_login(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next=")


def test_the_dashboard_counts_alerts_per_category_and_the_queue_age(client, seed):
    seed.post("冰糖到货", category="drugs")
    seed.post("菠菜平台注册送彩金", category="gambling")
    login(client, "alice")
    r = client.get("/console/dashboard")
    assert r.status_code == 200
    assert "vendor/echarts/echarts.min.js" in r.text and 'id="dashboard-data"' in r.text
    table = r.text[r.text.index('id="table-queue-age"'):]
    assert re.search(r"<th scope=\"row\">&lt;15分钟</th><td>2</td>", table)
    assert "毒品" in r.text or "涉毒" in r.text


def test_the_handover_counts_open_claimed_and_decisions_per_officer(client, seed, services):
    a1, _ = seed.post("冰糖到货", category="drugs")
    a2, _ = seed.post("出售仿真枪", category="weapons")
    seed.post("菠菜平台", category="gambling")
    store = services.store
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    store.claim(a1, "alice", now)
    store.claim(a2, "bob", now)
    store.decide(a2, Decision("dismiss", reason="false_positive"), "bob", now)
    login(client, "alice")
    r = client.get("/console/handover")
    assert r.status_code == 200
    summary = r.text[r.text.index('id="handover-summary"'):]
    assert '<dd data-k="open">1</dd>' in summary and '<dd data-k="claimed">1</dd>' in summary
    decisions = r.text[r.text.index('id="handover-decisions"'):]
    assert re.search(r'<th scope="row">bob</th><td>0</td><td>1</td>', decisions)


def test_a_bad_shift_time_is_refused_in_chinese_and_keeps_what_was_typed(client):
    login(client, "alice")
    r = client.get("/console/handover", params={"start": "昨天", "end": ""})
    assert r.status_code == 400 and "接班时间格式应为" in r.text and 'value="昨天"' in r.text
    r = client.get("/console/handover", params={"start": "2026-12-08T10:00", "end": "2026-12-08T09:00"})
    assert r.status_code == 400 and "接班时间必须早于交班时间" in r.text


def test_the_handover_pdf_is_a_pdf(client, seed):
    seed.post("冰糖到货", category="drugs")
    login(client, "sue")
    r = client.get("/console/handover", params={"format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")


def test_the_audit_view_is_for_auditors_and_admins_and_shows_the_chain_status(client, seed):
    seed.post("冰糖到货", category="drugs")
    login(client, "alice")
    assert client.get("/console/audit").status_code == 403
    login(client, "audrey")
    r = client.get("/console/audit", params={"action": "alert.opened"})
    assert r.status_code == 200 and 'data-ok="true"' in r.text and "完整：已校验" in r.text
    assert r.text.count('<tr data-seq="') == 1


@pytest.mark.parametrize("path", ["/console/admin", "/console/admin/sources", "/console/admin/rules",
                                  "/console/admin/lexicons"])
def test_administration_is_for_supervisors_and_admins(client, path):
    login(client, "alice")
    r = client.get(path)
    assert r.status_code == 403 and "当前角色无权查看管理页面" in r.text
    login(client, "adam")
    assert client.get(path).status_code == 200


def test_the_admin_home_links_to_user_management(client):
    login(client, "adam")
    assert 'href="/console/admin/users"' in client.get("/console/admin").text


def test_the_lexicon_backtest_counts_posts_a_term_would_hit(client, seed):
    seed.post("冰糖到货，老地方见", category="drugs")
    seed.post("今天天气很好", category="none", alert=False)
    login(client, "sue")
    r = client.get("/console/admin/lexicons", params={"terms": "冰糖"})
    assert r.status_code == 200
    row = r.text[r.text.index('data-term="冰糖"'):]
    assert re.search(r'<td class="hits">1</td><td>2</td>', row)
    r = client.get("/console/admin/lexicons", params={"terms": " , "})
    assert r.status_code == 400 and "请输入至少一个词" in r.text


def test_the_evidence_package_holds_the_post_its_hashes_a_report_and_a_pdf(client, seed):
    alert_id, _ = seed.post("冰糖到货，老地方见", category="drugs")
    login(client, "alice")
    r = client.get(f"/console/alerts/{alert_id}/evidence.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    assert {"post.txt", "manifest.json", "report.html", "report.pdf", "SHA256SUMS"} <= set(zf.namelist())
    assert zf.read("report.pdf").startswith(b"%PDF-")
    for line in zf.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ")
        assert sha256_hex(zf.read(name)) == digest
    # The seeded page was not kept: the report says the page hash cannot be re-checked.
    assert "页面未保存或已过保留期" in zf.read("report.html").decode("utf-8")
    assert client.get("/console/alerts/nope/evidence.zip").status_code == 404


def test_the_alert_page_shows_the_group_and_the_hashes(client, seed):
    ad = "兼职刷单返利，日结三百，每天只需动动手指，详情加微信 shuadan_778 咨询"
    lead, _ = seed.post(ad, category="fraud")
    member, _ = seed.post(ad + "！名额有限", category="fraud")
    login(client, "alice")
    r = client.get(f"/console/alerts/{lead}")
    assert 'id="group-count">2 条' in r.text and f'data-alert-id="{member}"' in r.text
    assert 'id="post-sha256" data-state="match"' in r.text
    r = client.get(f"/console/alerts/{member}")
    assert 'id="group-lead-link"' in r.text


def test_the_api_docs_load_their_assets_from_the_vendored_copies(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in r.text
    assert "cdn" not in r.text.lower()
    assert client.get("/static/vendor/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    r = client.get("/redoc")
    assert "/static/vendor/redoc/redoc.standalone.js" in r.text and "fonts.googleapis" not in r.text
