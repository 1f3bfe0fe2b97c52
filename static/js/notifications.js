/* 家访通 reminders (#/notifications): the in-app notification centre, kept on the phone for offline reading, the
 * unread badge in the menu, and the phone-push switch (push.js does the subscribing). Push is never the only channel:
 * every reminder is here too. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h, fmtTime } = JF.ui;
  const NOTES = "/api/v1/notifications";
  const pushable = "PushManager" in self && "Notification" in self;

  /** Kept for offline reading; wiped at logout like everything else. */
  async function refresh() {
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
      await fetch(NOTES + "/read", { method: "POST", body: JSON.stringify(ids ? { ids } : { all: true }), headers: { "Content-Type": "application/json", "X-CSRFToken": s.csrf_token } });
    } catch (e) { /* offline: read on this phone only */ }
    await JF.app.reload();
  }

  async function view() {
    const data = (await JF.db.kvGet("notes")) || { notifications: [] };
    const note = h("p", { class: "error", id: "jf-push-note" });
    const box = h("input", { type: "checkbox", id: "jf-push", disabled: !pushable, on: { change: () => JF.session.loadPush()
      .then((p) => p.toggle(box, note), () => { box.checked = !box.checked; note.textContent = t("请联网后再设置。"); }) } });
    if (pushable) navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription()).then((s) => { box.checked = !!s; });
    return [h("h1", {}, t("提醒")),
      data.unread ? h("button", { type: "button", id: "jf-read-all", on: { click: () => markRead(null) } }, t("全部标为已读")) : null,
      h("ul", { class: "list", id: "jf-notes" }, data.notifications.map((x) => h("li", { "data-read": x.read ? 1 : 0 },
        h("div", { class: "row" }, h("span", { class: "name" }, x.text), h("span", { class: "meta" }, fmtTime(x.created_at)),
          x.url ? h("a", { href: x.url }, t("打开")) : null),
        x.read ? null : h("button", { type: "button", class: "chip warn", on: { click: () => markRead([x.id]) } }, t("标为已读"))))),
      data.notifications.length ? null : h("p", { class: "muted" }, t("暂无提醒。")),
      h("section", { class: "card", id: "jf-settings" }, h("h2", {}, t("设置")), h("label", {}, box, " ", t("手机推送提醒")),
        h("p", { class: "muted" }, t("有新提醒时手机会收到通知（不含学生姓名）。有的地区或手机收不到推送；不论推送是否可用，所有提醒都会显示在这里。")),
        note)];
  }

  JF.notes = { view, refresh, badge };
})(self.JF = self.JF || {});
