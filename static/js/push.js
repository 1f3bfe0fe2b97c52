/* 家访通 phone push (Web Push), loaded on demand (settings switch, logout): push needs the network anyway, so it is not
 * precached. The in-app reminders never depend on it (Chrome's push service is unreachable from mainland China). */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const json = (url) => fetch(url).then((r) => r.json());

  async function send(method, body) {
    const s = await json("/api/v1/session");
    return fetch("/api/v1/push/subscriptions", { method, body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": s.csrf_token } });
  }

  /** Subscribe this phone for the logged-in user (or unsubscribe); throws what to tell the teacher. */
  async function set(on) {
    if (!on) return drop();
    if ((await Notification.requestPermission()) !== "granted") throw new Error(t("未获通知权限"));
    const reg = await navigator.serviceWorker.ready;
    const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: (await json("/api/v1/push/key")).public_key });
    const r = await send("POST", sub);
    if (!r.ok) throw new Error((await r.json()).message);
  }

  /** Forget this phone's subscription here and on the server (at logout its pushes would be the leaving user's). */
  async function drop() {
    const reg = await navigator.serviceWorker.getRegistration();
    const sub = reg && reg.pushManager && (await reg.pushManager.getSubscription());
    if (sub) await send("DELETE", { endpoint: sub.endpoint }).catch(() => null).finally(() => sub.unsubscribe());
  }

  /** The settings switch: do what it says, then show what is true. */
  async function toggle(box, note) {
    box.disabled = true;
    note.textContent = "";
    try {
      await set(box.checked);
    } catch (e) {
      note.textContent = t("手机推送没有开通（{why}）。应用内提醒不受影响。", { why: e.message });
    }
    box.checked = !!(await (await navigator.serviceWorker.ready).pushManager.getSubscription());
    box.disabled = false;
  }

  JF.push = { set, drop, toggle };
})(self.JF = self.JF || {});
