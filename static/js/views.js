/* 家访通 views: my children, a child's contact card, the outbox (waiting, drafts, records sent back with reasons),
 * a village committee member's confirmation code (RFC 6238, computed on the phone, works offline), and reminders
 * (the in-app notification centre, kept on the phone for offline reading, and the phone-push switch). */
(function (JF) {
  "use strict";
  const { h, fmtTime, fmtDate, telLink } = JF.ui;
  const STATUS = { queued: "待上传", draft: "草稿", rejected: "被退回" };
  const INC_STATUS = { queued: "待上报", rejected: "被退回", sent: "已上报" };
  const ERROR_LABELS = { child_id: "学生", occurred_at: "时间", photos: "照片", location: "位置", id: "编号", kind: "记录类型", record: "记录", client: "设备信息", fields: "内容" };

  const state = () => JF.app.state;
  const kindOf = (name) => (state().kinds || []).find((k) => k.name === name);
  const childOf = (id) => ((state().roster && state().roster.children) || []).find((c) => c.id === id);
  const recordsFor = (childId) => state().records.filter((r) => r.child_id === childId && r.status !== "draft");

  /** Kinds this user may write: the server may say so per kind (writers); otherwise all it lists. A committee member
   * writes none: they confirm visits (the code screen, the web queue). */
  function writableKinds() {
    const role = state().user && state().user.role;
    if (role === "committee") return [];
    return (state().kinds || []).filter((k) => !k.writers || k.writers.includes(role));
  }

  function recordTitle(r) {
    const kind = kindOf(r.kind);
    const child = childOf(r.child_id);
    return (kind ? kind.label : r.kind) + " · " + ((child && child.name) || r.child_name || "学生 " + r.child_id);
  }

  /** "字段名：原因" lines for a record the server sent back. */
  function errorLines(r) {
    const kind = kindOf(r.kind);
    return Object.entries(r.errors || {}).map(([key, why]) => {
      let label = ERROR_LABELS[key] || key;
      if (key.startsWith("fields.") && kind) {
        const f = kind.fields.find((x) => x.name === key.slice(7));
        label = f ? f.label : key.slice(7);
      }
      const text = Array.isArray(why) ? "有 " + why.length + " 张照片服务器还没有收到" : String(why);
      return h("li", { class: "error" }, label + "：" + text);
    });
  }

  /** My children; a committee member starts on the code screen and reaches the village's children with list=true. */
  function home(list) {
    const s = state();
    if (isCommittee() && !list) return code();
    const out = [h("h1", {}, isCommittee() ? "本村儿童" : "我的学生")];
    if (s.user) out.push(h("p", { class: "muted" }, s.user.name + " · 离线也可以查看联系卡、填写记录"));
    const waiting = s.records.filter((r) => r.status !== "draft");
    if (waiting.length) {
      const rejected = waiting.filter((r) => r.status === "rejected").length;
      out.push(h("p", { class: rejected ? "flash error" : "flash" },
        "有 " + waiting.length + " 条记录还没有同步到学校",
        rejected ? "，其中 " + rejected + " 条被退回需要修改" : "", "。 ",
        h("a", { href: "#/outbox" }, "查看")));
    }
    if (!isCommittee()) {
      out.push(h("p", {}, h("a", { class: "button", id: "jf-report", href: "#/incident/new" }, "报告突发事件")));
      if (s.incidents.length) out.push(h("ul", { class: "list", id: "jf-incidents" }, s.incidents.map((x) => h("li", { "data-incident": x.id },
        h("a", { class: "row", href: "#/incident/" + x.id }, h("span", { class: "name" }, "突发事件 · " + x.child_name),
          h("span", { class: "meta" }, fmtTime(x.occurred_at))), h("span", { class: x.status === "sent" ? "chip" : "chip err" }, INC_STATUS[x.status])))));
      out.push(dutyList());
    }
    const children = (s.roster && s.roster.children) || [];
    if (!s.roster) {
      out.push(h("p", { class: "flash warn" }, "还没有学生名单。请在有网络时打开一次家访通，名单会保存到手机上。"));
    } else if (!children.length) {
      out.push(h("p", { class: "muted" }, isCommittee() ? "本村暂无儿童。" : "暂无结对的学生。"));
    } else {
      out.push(h("ul", { class: "list", id: "jf-children" }, children.map((c) => {
        const n = recordsFor(c.id).length;
        const last = c.last && c.last.home_visit;
        return h("li", { "data-child": c.id },
          h("a", { class: "row", href: "#/child/" + c.id },
            h("span", { class: "name" }, c.name),
            h("span", { class: "meta" }, [c.class_name, c.village && c.village.name, last ? "上次家访 " + fmtDate(last) : "尚无家访记录"].filter(Boolean).join(" · "))),
          n ? h("span", { class: "chip warn" }, "待同步 " + n) : null);
      })));
    }
    return out;
  }

  // --- what is due, as app/duties/services.py says: the roster's counts plus what the server has not counted yet ---

  const DAY = 864e5;
  const ymd = (t) => new Date(t).toISOString().slice(0, 10);
  /** The China date (UTC+8, no daylight saving) of a moment. */
  const chinaDay = (t) => ymd(new Date(t).getTime() + 8 * 36e5);

  /** The current or previous period around `today` ("YYYY-MM-DD"): {start, end} (inclusive), null for a term in the holidays. */
  function period(per, today, prev, terms) {
    const t = Date.parse(today);
    const d = new Date(t);
    if (per === "week") {
      const s = t - ((d.getUTCDay() + 6) % 7 + (prev ? 7 : 0)) * DAY;
      return { start: ymd(s), end: ymd(s + 6 * DAY) };
    }
    if (per === "month" || per === "quarter") {
      const n = per === "month" ? 1 : 3;
      const y = d.getUTCFullYear(), m = Math.floor(d.getUTCMonth() / n) * n - (prev ? n : 0);
      return { start: ymd(Date.UTC(y, m, 1)), end: ymd(Date.UTC(y, m + n, 0)) };
    }
    const ts = (terms || []).filter(([, s, e]) => (prev ? e < today : s <= today && today <= e));
    const x = prev ? ts[ts.length - 1] : ts[0];
    return x ? { start: x[1], end: x[2] } : null;
  }

  /** {c, kind, status: overdue|due, end} per child and rule not done, overdue first, then by due date. Saved records
   * waiting in the outbox and records acknowledged after the roster was fetched count (drafts do not); when the phone's
   * date has left the roster's periods, they are computed here and the server's counts are used where the periods match. */
  function duties() {
    const s = state();
    const D = s.roster && s.roster.duties;
    if (!D) return null;
    const today = chinaDay(Date.now());
    const extra = s.records.filter((r) => r.status === "queued").concat(s.acked)
      .map((r) => ({ kind: r.kind, child_id: r.child_id, day: chinaDay(r.occurred_at) }));
    const rows = [];
    for (const c of s.roster.children) {
      for (const r of D.rules) {
        const k = (D.counts[c.id] || {})[r.kind] || {};
        const known = {};
        if (r.current) known[r.current.start + r.current.end] = k.current || 0;
        if (r.previous) known[r.previous.start + r.previous.end] = k.previous || 0;
        const n = (w) => (known[w.start + w.end] || 0) + extra.filter((e) => e.kind === r.kind && e.child_id === c.id && e.day >= w.start && e.day <= w.end).length;
        const [cur, prev] = [false, true].map((p) => (today === D.today ? r[p ? "previous" : "current"] : period(r.period, today, p, D.terms)));
        if (cur && n(cur) >= r.times) continue;
        const status = prev && n(prev) < r.times ? "overdue" : cur ? "due" : null;
        if (status) rows.push({ c, kind: r.kind, status, end: cur ? cur.end : "" });
      }
    }
    return rows.sort((a, b) => (a.status === "due") - (b.status === "due") || a.end.localeCompare(b.end));
  }

  function dutyList() {
    const rows = duties();
    if (!rows) return null;
    const md = (d) => +d.slice(5, 7) + "月" + +d.slice(8) + "日前";
    return h("section", { class: "card", id: "jf-duties" }, h("h2", {}, "本期待办"),
      rows.length ? h("ul", { class: "list" }, rows.map((x) => h("li", { "data-child": x.c.id, "data-kind": x.kind, "data-status": x.status },
        h("a", { class: "row", href: "#/new/" + x.kind + "/" + x.c.id },
          h("span", { class: "name" }, ((kindOf(x.kind) || {}).label || x.kind) + " · " + x.c.name),
          h("span", { class: "meta" }, x.status === "overdue" ? "上一期没有完成" : md(x.end))),
        x.status === "overdue" ? h("span", { class: "chip err" }, "逾期") : h("span", { class: "chip warn" }, "待办"))))
        : h("p", { class: "muted", id: "jf-duties-done" }, "本期都完成了"));
  }

  function callRow(label, phone) {
    return h("li", {}, h("span", {}, label), telLink(phone));
  }

  /** The guardian's and the parents' call rows of a contact card. */
  function contacts(c) {
    const calls = [];
    if (c.guardian) calls.push(callRow("委托监护人 " + c.guardian.name + (c.guardian.relationship ? "（" + c.guardian.relationship + "）" : ""), c.guardian.phone));
    for (const p of c.parents || []) calls.push(callRow((p.role === "father" ? "父亲 " : "母亲 ") + p.name + (p.work_place ? " · " + p.work_place : ""), p.phone));
    return calls;
  }

  function child(id) {
    const s = state();
    const c = childOf(Number(id));
    if (!c) return [h("p", { class: "flash warn" }, "名单里没有这名学生。"), h("a", { href: "#/" }, "返回")];
    const calls = contacts(c);
    if (c.responsible_teacher) calls.push(callRow("包保责任人 " + c.responsible_teacher.name, c.responsible_teacher.phone));
    if (s.roster.school && s.roster.school.hotline) calls.push(callRow("学校电话 " + s.roster.school.name, s.roster.school.hotline));
    const last = c.last || {};
    const lastText = (writableKinds().map((k) => last[k.name] ? k.label + " " + fmtDate(last[k.name]) : null).filter(Boolean).join(" · ")) || "还没有记录";
    const kinds = writableKinds();
    return [
      h("section", { class: "card contact-card", id: "jf-card" },
        h("h1", {}, "联系卡：" + c.name),
        h("p", { class: "muted" }, [c.class_name, c.village && c.village.name, c.address].filter(Boolean).join(" · ")),
        h("ul", { class: "calls" }, calls)),
      isCommittee() ? null : h("section", { class: "card" },
        h("h2", {}, "新建记录"),
        h("p", { class: "muted" }, "最近：" + lastText),
        kinds.length ? h("div", { class: "actions" }, kinds.map((k) =>
          h("a", { class: "button primary", href: "#/new/" + k.name + "/" + c.id, "data-kind": k.name }, k.label)))
          : h("p", { class: "flash warn" }, "还没有记录表格。请在有网络时打开一次家访通。")),
      isCommittee() ? null : h("p", {}, h("a", { class: "button", id: "jf-report", href: "#/incident/new/" + c.id }, "报告突发事件")),
      recordList(recordsFor(c.id), "这名学生待同步的记录"),
      h("p", {}, isCommittee() ? h("a", { href: "#/children" }, "返回本村儿童") : h("a", { href: "#/" }, "返回我的学生")),
    ];
  }

  function recordItem(r) {
    const actions = [];
    if (r.status !== "queued") {
      actions.push(h("a", { class: "button", href: "#/record/" + r.id }, r.status === "rejected" ? "修改后重新提交" : "继续填写"));
      actions.push(h("button", { type: "button", class: "jf-discard", "data-id": r.id, on: { click: () => discard(r) } }, "删除"));
    }
    return h("li", { class: "record", "data-record": r.id, "data-status": r.status },
      h("div", { class: "row" },
        h("span", { class: "name" }, recordTitle(r)),
        h("span", { class: "meta" }, [fmtTime(r.occurred_at), (r.photos || []).length ? (r.photos.length + " 张照片") : null].filter(Boolean).join(" · ")),
        r.status === "rejected" ? h("ul", { class: "report-errors" }, errorLines(r)) : null,
        actions.length ? h("div", { class: "actions" }, actions) : null),
      h("span", { class: r.status === "rejected" ? "chip err" : r.status === "draft" ? "chip" : "chip warn" }, STATUS[r.status] || r.status));
  }

  function recordList(records, title) {
    if (!records.length) return null;
    return h("section", {}, h("h2", {}, title), h("ul", { class: "list" }, records.map(recordItem)));
  }

  async function discard(r) {
    if (!confirm("确定删除这条记录吗？删除后无法恢复。")) return;
    await JF.db.removeRecord(r.id);
    JF.db.notify("records");
    await JF.app.reload();
  }

  function outbox() {
    const rs = state().records;
    const by = (st) => rs.filter((r) => r.status === st);
    const lists = [
      recordList(by("rejected"), "被退回的记录（请修改后重新提交）"),
      recordList(by("queued"), "等待上传"),
      recordList(by("draft"), "草稿（还没有保存）"),
    ].filter(Boolean);
    return [h("h1", {}, "待同步记录"),
      lists.length ? lists : h("p", { class: "muted", id: "jf-outbox-empty" }, "没有待同步的记录，全部已同步到学校。")];
  }

  // --- the committee member's confirmation code -----------------------------------------------------------------

  const isCommittee = () => !!(state().user && state().user.role === "committee");
  const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let hmacKey = null;  // [secret, CryptoKey]: imported once per secret

  function base32(text) {
    const out = [];
    let acc = 0;
    let bits = 0;
    for (const ch of text.replace(/=+$/, "").toUpperCase()) {
      const v = B32.indexOf(ch);
      if (v < 0) throw new Error("bad base32");
      acc = ((acc << 5) | v) & 0x1fff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.push((acc >> bits) & 0xff);
      }
    }
    return new Uint8Array(out);
  }

  /** RFC 6238 (T0 = 0): RFC 4226 HOTP of floor(unixSeconds / step) with HMAC-SHA1, as app/verify/totp.py computes it. */
  async function totp(secret, unixSeconds, step, digits) {
    if (!hmacKey || hmacKey[0] !== secret) {
      hmacKey = [secret, await crypto.subtle.importKey("raw", base32(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"])];
    }
    const counter = Math.floor(unixSeconds / step);
    const msg = new DataView(new ArrayBuffer(8));
    msg.setUint32(0, Math.floor(counter / 2 ** 32));  // 8 bytes, big-endian
    msg.setUint32(4, counter >>> 0);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey[1], msg.buffer));
    const o = mac[mac.length - 1] & 0x0f;
    const n = (((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3]) % 10 ** digits;
    return String(n).padStart(digits, "0");
  }

  /** The secret this phone holds for the logged-in member (never another user's: the phone may be shared). */
  function secretOf() {
    const c = state().confirm;
    return c && state().user && c.user_id === state().user.id ? c : null;
  }

  function code() {
    const s = state();
    const c = secretOf();
    const out = [h("h1", {}, "确认口令")];
    if (!s.user || s.user.role !== "committee") return out.concat(h("p", { class: "flash warn" }, "只有村干部账号有确认口令。"));
    if (!c) return out.concat(h("p", { class: "flash warn", id: "jf-code-missing" }, "还没有确认口令。请在有网络时打开一次家访通，之后没有网络也能显示。"));
    const big = h("p", { id: "jf-code", "aria-live": "polite" }, "······");
    // Inline style attributes are refused by the CSP; CSSOM properties are not.
    Object.assign(big.style, { fontSize: "3.2rem", fontWeight: "700", letterSpacing: ".12em", margin: ".6rem 0", fontVariantNumeric: "tabular-nums" });
    const bar = h("progress", { id: "jf-code-bar", max: c.step, value: c.step });
    const left = h("span", { class: "muted", id: "jf-code-left" });
    const timer = setInterval(tick, 1000);
    let shownStep = null;
    async function tick() {
      if (!big.isConnected && shownStep !== null) {
        clearInterval(timer);  // another view took the screen
        return;
      }
      const now = Date.now() / 1000;
      const step = Math.floor(now / c.step);
      const remaining = Math.max(1, Math.ceil((step + 1) * c.step - now));
      bar.value = remaining;
      left.textContent = remaining + " 秒后更换";
      if (step !== shownStep) {
        shownStep = step;
        const value = await totp(c.secret, now, c.step, c.digits);
        big.dataset.code = value;
        big.textContent = value.slice(0, 3) + " " + value.slice(3);
      }
    }
    tick();
    return out.concat(
      h("section", { class: "card", id: "jf-code-card" },
        h("p", {}, c.member + (c.village ? " · " + c.village : "")),
        big,
        h("div", {}, bar, " ", left),
        h("p", { class: "muted" }, "家访时请把这 6 位数字告诉老师，老师填在家访记录的“村干部确认口令”里。没有网络也可以使用；口令每 "
          + Math.round(c.step / 60) + " 分钟更换一次。")),
      h("p", {}, h("a", { href: "#/children" }, "本村儿童联系卡")));
  }

  // --- reminders: always in the app; phone push (push.js) where reachable ---

  const NOTES = "/api/v1/notifications";

  /** Kept for offline reading; wiped at logout like everything else. */
  async function refreshNotes() {
    try { await JF.db.kvSet("notes", await (await fetch(NOTES)).json()); } catch (e) { /* offline: keep our copy */ }
    await badge();
  }

  async function badge() {
    const n = ((await JF.db.kvGet("notes")) || {}).unread || 0;
    const b = document.getElementById("jf-unread");
    b.hidden = !n;
    b.className = n ? "chip err" : "";  // .chip would beat hidden
    b.textContent = n || "";
  }

  async function markRead(ids) {
    const notes = await JF.db.kvGet("notes");
    for (const x of notes.notifications) if (!ids || ids.includes(x.id)) x.read = true;
    notes.unread = notes.notifications.filter((x) => !x.read).length;
    await JF.db.kvSet("notes", notes);
    try {
      const s = await (await fetch("/api/v1/session")).json();
      await fetch(NOTES + "/read", { method: "POST", body: JSON.stringify({ ids }), headers: { "Content-Type": "application/json", "X-CSRFToken": s.csrf_token } });
    } catch (e) { /* offline: read on this phone only */ }
    await JF.app.reload();
  }

  const pushable = "PushManager" in self && "Notification" in self;

  async function notes() {
    const data = (await JF.db.kvGet("notes")) || { notifications: [] };
    const note = h("p", { class: "error", id: "jf-push-note" });
    const box = h("input", { type: "checkbox", id: "jf-push", disabled: !pushable, on: { change: () => JF.session.loadPush()
      .then((p) => p.toggle(box, note), () => { box.checked = !box.checked; note.textContent = "请联网后再设置。"; }) } });
    if (pushable) navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription()).then((s) => { box.checked = !!s; });
    return [h("h1", {}, "提醒"),
      data.unread ? h("button", { type: "button", id: "jf-read-all", on: { click: () => markRead(null) } }, "全部标为已读") : null,
      h("ul", { class: "list", id: "jf-notes" }, data.notifications.map((x) => h("li", { "data-read": x.read ? 1 : 0 },
        h("div", { class: "row" }, h("span", { class: "name" }, x.text), h("span", { class: "meta" }, fmtTime(x.created_at)),
          x.url ? h("a", { href: x.url }, "打开") : null),
        x.read ? null : h("button", { type: "button", class: "chip warn", on: { click: () => markRead([x.id]) } }, "标为已读")))),
      data.notifications.length ? null : h("p", { class: "muted" }, "暂无提醒。"),
      h("section", { class: "card", id: "jf-settings" }, h("h2", {}, "设置"), h("label", {}, box, " 手机推送提醒"),
        h("p", { class: "muted" }, "有新提醒时手机会收到通知（不含学生姓名）。有的地区或手机收不到推送；不论推送是否可用，所有提醒都会显示在这里。"),
        note)];
  }

  JF.views = { home, child, outbox, code, notes, refreshNotes, badge, kindOf, childOf, writableKinds, errorLines, totp, isCommittee, contacts, duties, period, chinaDay };
})(self.JF = self.JF || {});
