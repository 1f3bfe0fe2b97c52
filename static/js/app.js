/* 家访通 app shell: hash router (each view is its feature script's), the always-visible sync status bar, sync
 * triggers, and the refresh of what the phone keeps from the server (session, roster, kinds and incident rules). */
(function (JF) {
  "use strict";
  const { h, fmtTime, replace } = JF.ui;
  const $ = (id) => document.getElementById(id);
  const LOW_SPACE = 50 * 1024 * 1024;

  // flash: a message for the next view; storageWarning: shown on every view until space is freed.
  // confirm: a committee member's code secret (GET /api/v1/confirm/secret), kept for offline use, wiped at logout.
  // incidents: emergencies reported on this phone; acked: records the server confirmed after the roster was fetched.
  // incident: the server's emergency categories and clocks (GET /api/v1/kinds).
  const state = { user: null, roster: null, kinds: [], incident: null, records: [], incidents: [], acked: [], sync: {}, confirm: null, progress: null, view: "", flash: null, storageWarning: null };
  const retry = JF.outbox.scheduler(() => trigger("retry"));

  /** Read what the phone holds; only the logged-in teacher's records are shown (a shared phone never mixes users). */
  async function loadLocal() {
    const [user, roster, kinds, sync, records, confirm, incidents, acked, rosterAt, incident] = await Promise.all([
      JF.db.kvGet("user"), JF.db.kvGet("roster"), JF.db.kvGet("kinds"), JF.db.kvGet("sync"), JF.db.all("records"), JF.db.kvGet("confirm"),
      JF.db.kvGet("incidents"), JF.db.kvGet("acked"), JF.db.kvGet("roster_at"), JF.db.kvGet("incident"),
    ]);
    const mine = (x) => user && x.user_id === user.id;
    state.user = user || null;
    state.confirm = confirm || null;
    state.roster = roster || null;
    state.kinds = kinds || [];
    state.incident = incident || null;
    state.sync = sync || {};
    state.records = records.filter(mine);
    state.incidents = (incidents || []).filter(mine);
    state.acked = (acked || []).filter((a) => mine(a) && !(rosterAt && a.at < rosterAt));
  }

  /** Show or hide a chip: .chip sets display, which would override the hidden attribute, so drop the class too. */
  function toggle(el, text, cls) {
    el.hidden = !text;
    el.className = text ? cls : "";
    el.textContent = text || "";
  }

  /** A committee member's menu: the code screen and the village's children; nothing to send. */
  function renderNav() {
    const committee = JF.data.isCommittee();
    $("jf-nav-code").hidden = !committee;
    $("jf-nav-outbox").hidden = committee;
    $("jf-nav-home").textContent = committee ? "本村儿童" : "我的学生";
    $("jf-nav-home").setAttribute("href", committee ? "#/children" : "#/");
    // Sync controls only for who sends something (records or emergencies); children only for who may read them.
    const sends = JF.data.can("write_records") || JF.data.can("report_incidents");
    for (const id of ["jf-nav-outbox", "jf-sync", "jf-waiting", "jf-last"]) $(id).hidden = !sends;
    if (!JF.data.can("read_children")) $("jf-nav-home").hidden = true;
    JF.notes.badge();
  }

  function renderStatus() {
    const waiting = state.records.filter((r) => r.status === "queued" || r.status === "rejected").length + state.incidents.filter((x) => x.status !== "sent").length;
    const rejected = state.records.filter((r) => r.status === "rejected").length;
    $("jf-waiting").textContent = "待同步 " + waiting + " 条";
    $("jf-waiting").className = waiting ? "chip warn" : "chip";
    $("jf-last").textContent = "上次同步 " + fmtTime(state.sync.last_ok);
    toggle($("jf-progress"), state.progress, "chip");
    const err = $("jf-error");
    let text = null;
    let href = "#/outbox";
    const e = state.sync.error;
    if (e && e.code === "auth") {
      text = "登录已过期，请重新登录";
      href = "/login?next=/app/";
    } else if (e && e.code === "password") {
      text = JF.outbox.MSG.password;
      href = "/account";
    } else if (!navigator.onLine && waiting) {
      text = "离线：有网络后自动同步";
    } else if (e) {
      const wait = retry.nextAt ? Math.max(1, Math.round((retry.nextAt - Date.now()) / 1000)) : 0;
      const what = e.code === "network" ? "网络不通" : e.code === "server" ? "服务器暂时不可用" : null;
      text = wait && what ? what + "，约 " + wait + " 秒后自动重试" : e.message;
    } else if (rejected) {
      text = rejected + " 条记录被退回，请修改";
    }
    toggle(err, text, "chip err");
    err.setAttribute("href", href);
  }

  function notice(text, cls) {
    const el = $("jf-notice");
    el.hidden = !text;
    el.textContent = text || "";
    el.className = "flash " + (cls || "warn");
  }

  async function route() {
    const parts = (location.hash.replace(/^#\/?/, "") || "").split("/");
    const view = $("jf-view");
    let content;
    state.view = parts[0] || "home";
    if (parts[0] === "child" && parts[1]) content = JF.card.view(parts[1]);
    else if (parts[0] === "outbox") content = JF.outboxView.view();
    else if (parts[0] === "code") content = JF.code.view();
    else if (parts[0] === "notifications") content = await JF.notes.view();
    else if (parts[0] === "children") content = JF.home.view(true);
    else if (parts[0] === "new" && parts[2]) content = await JF.form.open({ kind: parts[1], child: parts[2] });
    else if (parts[0] === "activity") { state.view = "new"; content = await JF.form.open({ kind: "activity", child: 0 }); }
    else if (parts[0] === "record" && parts[1]) content = await JF.form.open({ id: parts[1] });
    else if (parts[0] === "correct" && parts[1]) content = await JF.form.open({ corrects: parts[1] });
    else if (parts[0] === "survey") content = JF.survey.open(parts[1]);
    else if (parts[0] === "incident" && parts[1]) {
      content = JF.incident.view(parts[1], parts[2]);
      if (parts[1] === "new" || parts[2] === "edit") state.view = "report";  // a form being filled: reload leaves it alone
    }
    else { state.view = "home"; content = JF.home.view(); }
    replace(view, content);
    window.scrollTo(0, 0);
  }

  /** Re-read IndexedDB and redraw; a form being filled is left alone (it autosaves itself). */
  async function reload() {
    await loadLocal();
    renderNav();
    renderStatus();
    if (!["new", "record", "correct", "report", "survey"].includes(state.view)) await route();
  }

  async function getJson(url, headers) {
    const resp = await fetch(url, { credentials: "same-origin", headers: Object.assign({ Accept: "application/json" }, headers || {}) });
    return resp;
  }

  /** Online: learn who is logged in, then refresh the roster (ETag) and the kinds' forms. */
  async function refreshServerData() {
    let resp;
    try {
      resp = await getJson("/api/v1/session");
    } catch (e) {
      return;  // offline: what the phone holds is what we show
    }
    if (resp.status === 401) {
      if ((await readJson(resp)).error === "account_deactivated") {
        await JF.session.closed();
        return;
      }
      const sync = Object.assign({}, await JF.db.kvGet("sync"), { error: { code: "auth", message: JF.outbox.MSG.auth } });
      await JF.db.kvSet("sync", sync);
      return;
    }
    if (!resp.ok) return;
    const user = (await resp.json()).user;
    if (user.must_change_password) {
      // A one-time password: nothing syncs until the user chose their own (the server refuses the rest anyway).
      await JF.db.kvUpdate("sync", (s) => Object.assign({}, s, { error: { code: "password", message: JF.outbox.MSG.password } }));
      return;
    }
    const known = await JF.db.kvGet("user");
    if (known && known.id !== user.id) {
      // Another teacher on this phone: the previous roster is not theirs to see.
      await Promise.all(["roster", "roster_etag", "roster_at", "kinds", "incident", "confirm", "notes"].map((k) => JF.db.del("kv", k)));
    }
    await JF.db.kvSet("user", user);
    if (user.role === "committee") await refreshSecret(user);
    await JF.notes.refresh();
    try {
      const etag = await JF.db.kvGet("roster_etag");
      const asked = new Date().toISOString();  // the answer counts every record acknowledged before this
      const r = await getJson("/api/v1/roster", etag ? { "If-None-Match": etag } : {});
      if (r.status === 200) {
        await JF.db.kvSet("roster", await r.json());
        await JF.db.kvSet("roster_etag", r.headers.get("ETag"));
      }
      if (r.status === 200 || r.status === 304) {
        await JF.db.kvSet("roster_at", asked);
        await JF.db.kvUpdate("acked", (a) => (a || []).filter((x) => x.at >= asked));
      }
      const k = await getJson("/api/v1/kinds");
      if (k.ok) {
        const body = await k.json();
        await JF.db.kvSet("kinds", body.kinds);
        if (body.incident) await JF.db.kvSet("incident", body.incident);
      }
    } catch (e) { /* connection dropped half way: keep the previous copies */ }
  }

  async function readJson(resp) {
    try { return await resp.json(); } catch (e) { return {}; }
  }

  /** A committee member's code secret, kept for offline use; a 404 (no longer a member) removes it. */
  async function refreshSecret(user) {
    try {
      const r = await getJson("/api/v1/confirm/secret");
      if (r.status === 404) await JF.db.del("kv", "confirm");
      if (!r.ok) return;
      const c = await r.json();
      if (c.user_id !== user.id) return;
      await JF.db.kvSet("confirm", { user_id: c.user_id, secret: c.secret, step: c.step || 180, digits: c.digits || 6,
        member: c.member, village: c.village, fetched_at: new Date().toISOString() });
    } catch (e) { /* offline half way: keep the copy we have */ }
  }

  async function trigger(reason) {
    if (!navigator.onLine && reason !== "button") {
      renderStatus();
      return;
    }
    const result = await JF.outbox.flush({ onProgress: (t) => { state.progress = t; renderStatus(); } });
    if (result.error && result.error.code === "deactivated") return JF.session.closed();
    state.progress = null;
    retry.after(result);
    if (!result.ok) JF.outbox.requestBackgroundSync();
    await loadLocal();
    // The roster's "last visit" dates and duty counts moved (maybe by the worker's flush: records acknowledged since).
    if (result.sent || (result.ok && state.acked.length)) await refreshServerData();
    await reload();
  }

  async function afterSave(record) {
    await loadLocal();
    renderStatus();
    state.flash = navigator.onLine ? "已保存，正在同步…" : "已保存在手机上，有网络后会自动同步。";
    location.hash = record.child_id ? "#/child/" + record.child_id : "#/";  // a new child or an activity: no one card
    JF.outbox.requestBackgroundSync();
    trigger("save");
  }

  async function checkStorage() {
    if (!navigator.storage) return;
    try {
      if (!(await JF.db.kvGet("persist_asked")) && navigator.storage.persist) {
        await JF.db.kvSet("persist_asked", true);
        await navigator.storage.persist();  // asked once: the browser must not evict unsent records
      }
      const est = await navigator.storage.estimate();
      const free = est.quota - est.usage;
      if (est.quota && (free < LOW_SPACE || est.usage / est.quota > 0.9)) {
        state.storageWarning = "手机存储空间不足（剩余约 " + Math.max(0, Math.round(free / 1048576)) + " MB），请尽快联网同步并清理手机空间，以免新记录无法保存。";
        notice(state.storageWarning);
      }
    } catch (e) { /* estimate unsupported */ }
  }

  async function boot() {
    JF.db.onwiped = () => { if (!(JF.session && JF.session.loggingOut)) location.reload(); };
    await loadLocal();
    renderNav();
    renderStatus();
    await route();
    window.addEventListener("hashchange", () => {
      notice(state.flash || state.storageWarning, state.flash ? "ok" : "warn");
      state.flash = null;
      route();
      if (state.view === "notifications" && navigator.onLine) JF.notes.refresh().then(reload);
    });
    window.addEventListener("online", () => { renderStatus(); trigger("online"); });
    window.addEventListener("offline", renderStatus);
    $("jf-sync").addEventListener("click", () => trigger("button"));
    JF.db.listen((msg) => {
      if (msg.type === "push") {
        JF.notes.refresh().then(reload);
      } else if (msg.type === "progress") {
        state.progress = msg.text;
        renderStatus();
      } else {
        reload();
      }
    });
    checkStorage();
    if (navigator.onLine) {
      await refreshServerData();
      await reload();
      trigger("open");
    }
    document.body.dataset.ready = "1";  // for the browser tests: boot finished
  }

  JF.app = { state, reload, afterSave, trigger, renderStatus, notice };
  document.addEventListener("DOMContentLoaded", boot);
})(self.JF = self.JF || {});
