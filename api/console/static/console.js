// The console's enhancements; every page still works without JavaScript (forms post, links go).
// One section per job: decision form, drafts, countdowns, critical-alert signals, live updates,
// keyboard triage, identifier reveal, blur, grayscale, bulk selection, back link.
(function () {
  "use strict";

  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var csrf = ($('meta[name="csrf-token"]') || {}).content || "";
  var baseTitle = document.title;

  // --- the decision form: only the fields the chosen action needs --------------------------
  var form = $("#decision-form");
  function syncDecision() {
    if (!form) return;
    var checked = form.querySelector('input[name="action"]:checked');
    var action = checked ? checked.value : "";
    $$("[data-for-action]", form).forEach(function (el) {
      el.hidden = el.getAttribute("data-for-action").split(" ").indexOf(action) < 0;
    });
  }
  if (form) { form.addEventListener("change", syncDecision); syncDecision(); }

  // --- drafts: typed notes survive an expired session, a refusal or a reload ----------------
  // Kept in sessionStorage per alert, dropped once the console reports success.
  var detail = $("#alert-detail");
  var alertId = detail ? detail.getAttribute("data-alert-id") : null;
  var flash = $("#flash");
  var succeeded = flash && !flash.classList.contains("flash-error");
  ["decision-note", "note-text"].forEach(function (id) {
    var box = document.getElementById(id);
    if (!box || !alertId) return;
    var key = "patrol.draft." + id + "." + alertId;
    if (succeeded) sessionStorage.removeItem(key);
    else if (!box.value && sessionStorage.getItem(key)) box.value = sessionStorage.getItem(key);
    box.addEventListener("input", function () { sessionStorage.setItem(key, box.value); });
  });

  // --- countdowns and "overdue by" ----------------------------------------------------------
  function spell(ms) {
    var m = Math.floor(Math.abs(ms) / 60000);
    if (m >= 60) return Math.floor(m / 60) + " 小时 " + (m % 60) + " 分";
    var s = Math.floor(Math.abs(ms) / 1000) % 60;
    return m + " 分 " + (s < 10 ? "0" : "") + s + " 秒";
  }
  function tick() {
    var now = Date.now();
    $$(".countdown[data-due-at]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due-at")) - now;
      var row = el.closest(".alert-row") || el.closest("#alert-detail");
      el.textContent = left >= 0 ? "剩余 " + spell(left) : "已超时 " + spell(left);
      el.classList.toggle("overdue-flag", left < 0);
      if (row && left < 0 && row.getAttribute("data-overdue") !== "true") {
        row.setAttribute("data-overdue", "true");
        row.classList.add("overdue");
      }
    });
    signalCritical();
  }

  // --- critical alerts: a sound, a desktop notification and a title badge -------------------
  // Each critical alert signals once when it first appears and once when it goes overdue
  // (remembered in localStorage, so a reload or a second tab does not ring again).
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio device: the notification and the badge still show */ }
    document.documentElement.setAttribute("data-last-beep", String(Date.now()));
  }
  function notify(title, body, url) {
    toast(title + "：" + body, url);
    beep();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    var n = new Notification(title, { body: body, tag: url || title });
    n.onclick = function () { window.focus(); if (url) window.location.href = url; };
  }
  function toast(text, url) {
    var box = $("#toasts");
    if (!box) return;
    var item = document.createElement(url ? "a" : "div");
    item.className = "toast";
    item.textContent = text;
    if (url) item.href = url;
    box.appendChild(item);
  }
  function seen(key) {
    var all = JSON.parse(localStorage.getItem("patrol.signalled") || "{}");
    if (all[key]) return true;
    all[key] = Date.now();
    localStorage.setItem("patrol.signalled", JSON.stringify(all));
    return false;
  }
  function signalCritical() {
    var rows = $$('.alert-row[data-severity="critical"]').filter(function (r) {
      return ["open", "claimed", "escalated"].indexOf(r.getAttribute("data-status")) >= 0;
    });
    if (detail && detail.getAttribute("data-severity") === "critical") rows.push(detail);
    var waiting = 0, fresh = [];
    rows.forEach(function (r) {
      var id = r.getAttribute("data-alert-id"), overdue = r.getAttribute("data-overdue") === "true";
      var url = "/console/alerts/" + encodeURIComponent(id);
      if (r.getAttribute("data-status") === "open" || overdue) waiting += 1;
      var what = ((r.querySelector(".alert-link") || {}).textContent || "").trim().slice(0, 60) || id;
      if (!seen("new:" + id)) fresh.push(["紧急告警", what, url]);
      if (overdue && !seen("overdue:" + id)) fresh.push(["紧急告警已超时", what, url]);
    });
    // Many at once (the first page of a shift): one signal that says how many, not a flood.
    if (fresh.length > 3) notify("紧急告警", fresh.length + " 条紧急告警待处理或已超时", null);
    else fresh.forEach(function (f) { notify(f[0], f[1], f[2]); });
    var unread = $$(".toast").length;
    var badge = waiting + unread;
    document.title = (badge ? "(" + badge + ") " : "") + baseTitle;
  }
  var enable = $("#enable-notifications");
  if (enable) enable.addEventListener("click", function () {
    beep();  // a user gesture: lets the page play sound from now on
    if ("Notification" in window) Notification.requestPermission().then(function (p) {
      enable.textContent = p === "granted" ? "桌面通知已开启" : "浏览器未允许桌面通知（声音与标题提醒仍有效）";
    });
  });

  // --- live updates by server-sent events ---------------------------------------------------
  var liveState = $("#live-state");
  function refreshRows() {
    var rows = $("#queue-rows");
    if (!rows) return;
    var checked = $$(".row-select:checked").map(function (c) { return c.value; });
    fetch("/console/queue/rows" + window.location.search, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#queue-rows");
        if (!fresh) return;
        rows.replaceWith(fresh);
        $$(".row-select").forEach(function (c) { c.checked = checked.indexOf(c.value) >= 0; });
        if (liveState) liveState.textContent = "已更新 " + new Date().toLocaleTimeString("zh-CN");
        bindRows(); moveCursor(0); tick();
      })
      .catch(function () { if (liveState) liveState.textContent = "更新失败，稍后重试"; });
  }
  if (window.EventSource && $("#current-user")) {
    var source = new EventSource("/console/live");
    source.addEventListener("hello", function () { if (liveState) liveState.textContent = "实时更新中"; });
    source.addEventListener("alerts", function (ev) {
      var ids = JSON.parse(ev.data).ids || [];
      if ($("#queue-rows")) refreshRows();
      if (alertId && ids.indexOf(alertId) >= 0 && !$("#changed-banner")) {
        var banner = document.createElement("div");
        banner.id = "changed-banner"; banner.className = "flash flash-error"; banner.setAttribute("role", "status");
        banner.innerHTML = '此告警刚有变更（可能是他人操作）。<a href="">刷新查看</a>（您填写的内容已自动保存）';
        detail.parentNode.insertBefore(banner, detail);
      }
    });
    source.addEventListener("notification", function (ev) {
      var n = JSON.parse(ev.data);
      notify("超时通报", n.text, n.alert_id ? "/console/alerts/" + encodeURIComponent(n.alert_id) : null);
      signalCritical();
    });
    source.onerror = function () { if (liveState) liveState.textContent = "连接中断，正在重连…"; };
  }

  // --- keyboard triage on the queue: j/k move, c claim, x dismiss, e escalate, Enter open, ? help
  var cursor = -1;
  function rows() { return $$("#alert-queue tr.alert-row"); }
  function moveCursor(step) {
    var all = rows();
    if (!all.length) return;
    var remembered = sessionStorage.getItem("patrol.cursor");
    if (cursor < 0 && remembered) cursor = all.findIndex(function (r) { return r.getAttribute("data-alert-id") === remembered; });
    cursor = Math.max(0, Math.min(all.length - 1, (cursor < 0 ? 0 : cursor) + step));
    all.forEach(function (r, i) { r.classList.toggle("cursor", i === cursor); r.setAttribute("aria-selected", i === cursor ? "true" : "false"); });
    sessionStorage.setItem("patrol.cursor", all[cursor].getAttribute("data-alert-id"));
    if (step) all[cursor].scrollIntoView({ block: "nearest" });
  }
  function current() { var all = rows(); return all[cursor] || null; }
  var triage = $("#triage-dialog"), help = $("#help-dialog");
  function openTriage(action) {
    var row = current();
    if (!row || !triage) return;
    var f = $("#triage-form");
    f.action = f.getAttribute("data-action-base") + encodeURIComponent(row.getAttribute("data-alert-id")) + "/decision";
    $("#triage-action").value = action;
    $("#triage-title").textContent = (action === "dismiss" ? "驳回：" : "上报主管：") + ((row.querySelector(".alert-link") || {}).textContent || "").trim().slice(0, 40);
    $$("[data-for-triage]", f).forEach(function (el) { el.hidden = el.getAttribute("data-for-triage") !== action; });
    $("#triage-reason").required = action === "dismiss";
    $("#triage-note").required = action === "escalate";
    triage.showModal();
    (action === "dismiss" ? $("#triage-reason") : $("#triage-note")).focus();
  }
  if (triage) $("#triage-cancel").addEventListener("click", function () { triage.close(); });
  if (help) $("#help-close").addEventListener("click", function () { help.close(); });
  document.addEventListener("keydown", function (ev) {
    if (!$("#alert-queue") && ev.key !== "?") return;
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    if ((triage && triage.open) || (help && help.open)) return;
    var row = current();
    switch (ev.key) {
      case "j": moveCursor(1); break;
      case "k": moveCursor(-1); break;
      case "c":
        var button = row && row.querySelector(".claim-button");
        if (button) button.click(); else toast("此告警当前不能由您认领。");
        break;
      case "x": openTriage("dismiss"); break;
      case "e": openTriage("escalate"); break;
      case "Enter": if (row) row.querySelector("a.alert-link").click(); break;
      case "?": if (help) help.showModal(); break;
      default: return;
    }
    ev.preventDefault();
  });

  // --- bulk selection (supervisors) ---------------------------------------------------------
  function bindRows() {
    var all = $("#select-all");
    if (all) all.addEventListener("change", function () {
      $$(".row-select").forEach(function (c) { c.checked = all.checked; }); countSelected();
    });
    $$(".row-select").forEach(function (c) { c.addEventListener("change", countSelected); });
    countSelected();
  }
  function countSelected() {
    var n = $("#selected-count");
    if (n) n.textContent = String($$(".row-select:checked").length);
  }
  var bulkAction = $("#bulk-action");
  function syncBulk() {
    $$("[data-for-bulk]").forEach(function (el) { el.hidden = el.getAttribute("data-for-bulk") !== bulkAction.value; });
  }
  if (bulkAction) { bulkAction.addEventListener("change", syncBulk); syncBulk(); }
  bindRows();

  // --- masked identifiers: an audited reveal, for the roles allowed ------------------------
  function reveal(el) {
    var index = el.getAttribute("data-identifier");
    var body = new URLSearchParams({ index: index, csrf_token: csrf });
    fetch("/console/alerts/" + encodeURIComponent(alertId) + "/reveal", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (res) {
        var note = $("#reveal-error");
        if (!res.ok) { if (note) { note.hidden = false; note.textContent = res.data.error; } return; }
        var chars = Array.from(res.data.value);
        $$('.masked[data-identifier="' + index + '"]').forEach(function (span) {
          var off = Number(span.getAttribute("data-offset")), len = Number(span.getAttribute("data-length"));
          span.textContent = chars.slice(off, off + len).join("");
          span.classList.add("revealed"); span.removeAttribute("role"); span.removeAttribute("tabindex");
        });
      });
  }
  $$(".masked[data-identifier]").forEach(function (el) {
    el.addEventListener("click", function () { if (!el.classList.contains("revealed")) reveal(el); });
    el.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); reveal(el); } });
  });

  // --- sexual and violent text: blurred until the officer chooses to see it ----------------
  $$("[data-unblur]").forEach(function (b) {
    b.addEventListener("click", function () {
      var target = $(b.getAttribute("data-unblur"));
      if (target) target.classList.remove("blurred");
      b.hidden = true;
    });
  });

  // --- grayscale mode, remembered per browser -----------------------------------------------
  var gray = $("#grayscale-toggle");
  function applyGray(on) {
    document.documentElement.classList.toggle("grayscale", on);
    if (gray) gray.setAttribute("aria-pressed", on ? "true" : "false");
  }
  applyGray(localStorage.getItem("patrol.grayscale") === "1");
  if (gray) gray.addEventListener("click", function () {
    var on = !document.documentElement.classList.contains("grayscale");
    localStorage.setItem("patrol.grayscale", on ? "1" : "0");
    applyGray(on);
  });

  // --- the post page's 返回: back to where the officer came from, when that was the console ---
  $$("[data-history-back]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      if (document.referrer && document.referrer.indexOf(window.location.origin + "/console") === 0) {
        ev.preventDefault(); history.back();
      }
    });
  });

  moveCursor(0);
  tick();
  setInterval(tick, 1000);
})();
