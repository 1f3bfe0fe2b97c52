/* 家访通 app shell: hash router (each view is its feature script's), the always-visible sync status bar, sync
 * triggers, and the refresh of what the phone keeps from the server (session, roster, kinds and incident rules). */
(function (JF) {
  "use strict";
  const { h, fmtTime, replace } = JF.ui;
  const { t } = JF.i18n;
  const $ = (id) => document.getElementById(id);
  // What outbox.js says with numbers in it (it also runs in the worker, without the catalogue): shown translated.
  const OUTBOX_TEXTS = ["正在上传照片 {i}/{n}", "正在上传签名 {i}/{n}", "正在上传记录 {i}/{n}", "照片上传失败（{n}）",
    "签名上传失败（{n}）", "同步失败（{n}）", "上报失败（{n}）", "服务器暂时不可用，稍后自动重试（{why}）"];
  const said = (text) => JF.i18n.tr(text, OUTBOX_TEXTS);

  // flash: a message for the next view; clock: the phone's clock offset from the server's (device.js); csrf: the session's token.
  // confirm: a committee member's code secret (GET /api/v1/confirm/secret), kept for offline use, wiped at logout.
  // incidents: emergencies reported on this phone; acked: records the server confirmed after the roster was fetched.
  // incident: the server's emergency categories and clocks (GET /api/v1/kinds).
  const state = { user: null, roster: null, kinds: [], incident: null, records: [], incidents: [], acked: [], sync: {}, confirm: null, progress: null, view: "", flash: null, clock: null, csrf: null };
  const retry = JF.outbox.scheduler(() => trigger("retry"));

  /** Read what the phone holds; only the logged-in teacher's records are shown (a shared phone never mixes users). */
  async function loadLocal() {
    const [user, roster, kinds, sync, records, confirm, incidents, acked, rosterAt, incident] = await Promise.all([
      JF.db.kvGet("user"), JF.db.kvGet("roster"), JF.db.kvGet("kinds"), JF.db.kvGet("sync"), JF.db.all("records"), JF.db.kvGet("confirm"),
      JF.db.kvGet("incidents"), JF.db.kvGet("acked"), JF.db.kvGet("roster_at"), JF.db.kvGet("incident"),
    ]);
    state.clock = await JF.db.kvGet("clock");
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
    $("jf-nav-home").textContent = committee ? t("本村儿童") : t("我的学生");
    $("jf-nav-home").setAttribute("href", committee ? "#/children" : "#/");
    // Sync controls only for who sends something (records or emergencies); children only for who may read them.
    const sends = JF.data.can("write_records") || JF.data.can("report_incidents");
    for (const id of ["jf-nav-outbox", "jf-sync", "jf-waiting", "jf-last"]) $(id).hidden = !sends;
    if (!JF.data.can("read_children")) $("jf-nav-home").hidden = true;
    JF.notes.badge();
  }

  let tick = null;
  function renderStatus() {
    clearTimeout(tick);
    const waiting = state.records.filter((r) => r.status === "queued" || r.status === "rejected").length + state.incidents.filter((x) => x.status !== "sent").length;
    const rejected = state.records.filter((r) => r.status === "rejected").length;
    $("jf-waiting").textContent = t("待同步 {n} 条", { n: waiting });
    $("jf-waiting").className = waiting ? "chip warn" : "chip";
    $("jf-last").textContent = t("上次同步 {time}", { time: fmtTime(state.sync.last_ok) });
    toggle($("jf-progress"), state.progress, "chip");
    const err = $("jf-error");
    let text = null;
    let href = "#/outbox";
    const e = state.sync.error;
    if (e && (e.code === "auth" || e.code === "ended")) {
      text = e.code === "ended" ? t(JF.outbox.MSG.ended) : t("登录已过期，请重新登录");
      href = "/login?next=/app/";
    } else if (e && e.code === "password") {
      text = t(JF.outbox.MSG.password);
      href = "/account";
    } else if (!navigator.onLine && waiting) {
      text = t("离线：有网络后自动同步");
    } else if (e) {
      const wait = retry.nextAt ? Math.max(1, Math.round((retry.nextAt - Date.now()) / 1000)) : 0;
      const what = e.code === "network" ? t("网络不通") : e.code === "server" ? t("服务器暂时不可用") : null;
      text = wait && what ? t("{what}，约 {n} 秒后自动重试", { what, n: wait }) : said(e.message);
      // The countdown moves every second; it disappears when the retry runs (trigger redraws).
      if (wait && what) tick = setTimeout(renderStatus, 1000);
    } else if (rejected) {
      text = t("{n} 条记录被退回，请修改", { n: rejected });
    }
    toggle(err, text, "chip err");
    err.setAttribute("href", href);
    renderPhone();
  }

  /** This phone's own problems: its clock, its storage (refused persistence, little space left). */
  function renderPhone() {
    const persistNote = JF.storage.persisted === false ? t("浏览器没有允许长期保存数据：手机空间紧张时，未同步的记录可能被清除。请尽快联网同步，或把家访通添加到主屏幕。") : null;
    const text = [JF.device.clockWarning(state.clock), JF.storage.warning, persistNote].filter(Boolean).join(" ");
    const el = $("jf-phone");
    el.hidden = !text;
    el.textContent = text;
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
    const resp = await fetch(url, { credentials: "same-origin", headers: Object.assign({ Accept: "application/json" }, await JF.device.headers(), headers || {}) });
    return JF.device.observe(resp);
  }

  /** What the phone keeps from the server about the children (not the teacher's own unsent work). */
  function forgetServerData() {
    return Promise.all(["roster", "roster_etag", "roster_at", "kinds", "incident", "confirm", "notes"].map((k) => JF.db.del("kv", k)));
  }

  /** Logged out elsewhere: the children's data goes; drafts and unsent records stay for this teacher's next login. */
  async function sessionEnded() {
    await forgetServerData();
    await JF.db.kvUpdate("sync", (s) => Object.assign({}, s, { error: { code: "ended", message: JF.outbox.MSG.ended, at: new Date().toISOString() } }));
    state.flash = t("您已在其他设备上退出登录，手机上的学生资料已清除；未同步的记录仍保留，请重新登录后发送。");
    location.hash = "#/";
    await reload();
    notice(state.flash);
  }

  /** A wipe order (the phone was reported lost): everything it could send went first; now it keeps nothing. */
  async function wipeOrdered() {
    const headers = Object.assign({ "X-CSRFToken": state.csrf || "" }, await JF.device.headers());
    JF.session.loggingOut = true;
    await JF.session.wipe();
    JF.device.forget();
    try {
      await fetch("/api/v1/device/wiped", { method: "POST", credentials: "same-origin", headers });
    } finally {
      location.href = "/login?wiped=lost";  // the login page says why
    }
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
      const why = (await readJson(resp)).error;
      if (why === "account_deactivated") {
        await JF.session.closed();
        return;
      }
      if (why === "session_ended") return sessionEnded();
      const sync = Object.assign({}, await JF.db.kvGet("sync"), { error: { code: "auth", message: JF.outbox.MSG.auth } });
      await JF.db.kvSet("sync", sync);
      return;
    }
    if (!resp.ok) return;
    const body = await resp.json();
    const user = body.user;
    state.csrf = body.csrf_token;
    if (user.must_change_password) {
      // A one-time password: nothing syncs until the user chose their own (the server refuses the rest anyway).
      await JF.db.kvUpdate("sync", (s) => Object.assign({}, s, { error: { code: "password", message: JF.outbox.MSG.password } }));
      return;
    }
    const known = await JF.db.kvGet("user");
    if (known && known.id !== user.id) {
      // Another teacher on this phone: the previous roster is not theirs to see.
      await forgetServerData();
    }
    await JF.db.kvSet("user", user);
    if (user.role === "committee") await refreshSecret(user);
    await JF.notes.refresh();
    try {
      // The roster's labels are in the language it was fetched in: after a language switch, fetch it whole again.
      const etag = (await JF.db.kvGet("roster_lang")) === JF.i18n.lang ? await JF.db.kvGet("roster_etag") : null;
      const asked = new Date().toISOString();  // the answer counts every record acknowledged before this
      const r = await getJson("/api/v1/roster", etag ? { "If-None-Match": etag } : {});
      if (r.status === 200) {
        await JF.db.kvSet("roster", await r.json());
        await JF.db.kvSet("roster_etag", r.headers.get("ETag"));
        await JF.db.kvSet("roster_lang", JF.i18n.lang);
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
    // The worker's Background Sync may send some of them first: count what left the outbox, not only this flush.
    const queued = state.records.filter((r) => r.status === "queued").map((r) => r.id);
    const result = await JF.outbox.flush({ onProgress: (text) => { state.progress = said(text); renderStatus(); } });
    if (result.error && result.error.code === "deactivated") return JF.session.closed();
    if (result.wipe) return wipeOrdered();
    if (result.error && result.error.code === "ended") return sessionEnded();
    if (result.held) state.flash = t("{n} 条记录的学生已改由其他教师结对，记录已交给校长处理。", { n: result.held });
    state.progress = null;
    retry.after(result);
    if (!result.ok) JF.outbox.requestBackgroundSync();
    await loadLocal();
    syncEnded(Math.max(result.sent || 0, queued.filter((id) => !state.records.some((r) => r.id === id)).length));
    // The roster's "last visit" dates and duty counts moved (maybe by the worker's flush: records acknowledged since).
    if (result.sent || (result.ok && state.acked.length)) await refreshServerData();
    await reload();
  }

  // syncing: the notice says "正在同步…" (now or after the pending navigation); a sync's end must replace it.
  let syncing = false;
  let navPending = false;

  /** The notice after a sync: "已同步 N 条" when records went; a "正在同步…" left from a save never outlives the sync. */
  function syncEnded(sent) {
    const waiting = state.records.some((r) => r.status === "queued");
    let text = null;
    if (sent) text = t("已同步 {n} 条", { n: sent });
    else if (syncing) text = waiting ? t("已保存在手机上，有网络后会自动同步。") : t("已全部同步");
    else return;
    syncing = false;
    if (navPending) state.flash = text;  // the view it was meant for has not been drawn yet
    else notice(text, "ok");
  }

  async function afterSave(record) {
    await loadLocal();
    renderStatus();
    syncing = navigator.onLine;
    state.flash = syncing ? t("已保存，正在同步…") : t("已保存在手机上，有网络后会自动同步。");
    navPending = true;
    location.hash = record.child_id ? "#/child/" + record.child_id : "#/";  // a new child or an activity: no one card
    JF.outbox.requestBackgroundSync();
    trigger("save");
  }

  /** Persistent storage asked at every start (the answer shown when refused), and the space left checked. */
  async function checkStorage() {
    await JF.storage.persist();
    await JF.storage.check();
    if (JF.storage.warning) notice(JF.storage.warning);
    renderPhone();
  }

  async function boot() {
    JF.i18n.translatePage();
    JF.db.onwiped = () => { if (!(JF.session && JF.session.loggingOut)) location.reload(); };
    await JF.lock.ready();  // locked at start: nothing about a child is read before the PIN (lock.js)
    JF.storage.onwarning = renderPhone;
    // A failed IndexedDB write anywhere (an autosave, a photo, the save button): say what was not saved, never nothing.
    window.addEventListener("unhandledrejection", (e) => {
      if (!JF.storage.isWriteError(e.reason)) return;
      e.preventDefault();  // told to the teacher below: not a crash
      notice(JF.storage.explain(e.reason), "err");
      window.scrollTo(0, 0);
    });
    await loadLocal();
    renderNav();
    renderStatus();
    await route();
    window.addEventListener("hashchange", () => {
      navPending = false;
      notice(state.flash || JF.storage.warning, state.flash ? "ok" : "warn");
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
        state.progress = said(msg.text);
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

  JF.app = { state, reload, afterSave, trigger, renderStatus, notice, said };
  document.addEventListener("DOMContentLoaded", boot);
})(self.JF = self.JF || {});
