/* 家访通 lock screen: owns the data key's life on this phone (crypto.js uses it). The key is random and wrapped twice in
 * the vault store: under a key derived from the teacher's PIN (PBKDF2-SHA256) and under the server's device key
 * (POST /api/v1/device-key, released after a fresh login or with the password). Locked at start and after IDLE_MS
 * without a touch; 5 wrong PINs wipe everything but what has not reached the school, which the server's key reopens. */
(function (JF) {
  "use strict";
  const { h, replace } = JF.ui;
  const { t } = JF.i18n;
  const ITERATIONS = 600000;  // ~0.1 s on this desktop, ~0.6-1 s on a low-end phone (see the branch's note)
  const MAX_TRIES = 5;
  const AES = { name: "AES-GCM", length: 256 };
  const lock = { idleMs: 5 * 60 * 1000 };
  let last = Date.now();
  let csrf = null;

  const view = () => document.getElementById("jf-view");
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

  async function pinKey(pin, salt, iterations) {
    const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveKey"]);
    return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, AES, false, ["wrapKey", "unwrapKey"]);
  }

  async function wrap(dataKey, kek) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    return { iv, ct: await crypto.subtle.wrapKey("raw", dataKey, kek, { name: "AES-GCM", iv }) };
  }

  /** The data key from a wrapped copy; extractable only to wrap it again under a new PIN. */
  const unwrap = (w, kek, extractable) => crypto.subtle.unwrapKey("raw", w.ct, kek, { name: "AES-GCM", iv: w.iv }, AES, !!extractable, ["encrypt", "decrypt"]);

  /** GET /api/v1/session: the user and a CSRF token, "expired", "deactivated", or null offline. */
  async function session() {
    let resp;
    try {
      resp = await fetch("/api/v1/session", { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    } catch (e) { return null; }
    const body = await resp.json().catch(() => ({}));
    if (resp.status === 401) return body.error === "account_deactivated" ? "deactivated" : "expired";
    if (!resp.ok) return null;
    csrf = body.csrf_token;
    return body.user;
  }

  /** The server's key for this phone as an AES key; throws with the server's message (e.g. the password is wrong). */
  async function serverKey(deviceId, password) {
    const resp = await fetch("/api/v1/device-key", { method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(password ? { device_id: deviceId, password } : { device_id: deviceId }) });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw Object.assign(new Error(body.message || t("无法连接服务器，请联网后再试。")), { code: body.error });
    return crypto.subtle.importKey("raw", b64(body.key), "AES-GCM", false, ["wrapKey", "unwrapKey"]);
  }

  /** Keep `dataKey` (extractable) wrapped under a new PIN, then hold a non-extractable copy in memory. */
  async function setPin(dataKey, pin) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const kek = await pinKey(pin, salt, ITERATIONS);
    const w = await wrap(dataKey, kek);
    await JF.db.vaultSet("pin", Object.assign({ salt, iterations: ITERATIONS }, w));
    await JF.db.vaultSet("tries", 0);
    await unlocked(await unwrap(w, kek, false));
  }

  async function unlocked(key) {
    JF.crypt.setKey(key);
    await JF.db.sealLegacy();
    giveKeyToWorker();
    last = Date.now();
  }

  function giveKeyToWorker() {
    const c = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (c && JF.crypt.ready()) c.postMessage({ type: "jf-key", key: JF.crypt.key() });
  }

  /** First PIN on this phone: a new data key, wrapped under the PIN and under the server's key. */
  async function create(user, pin, password) {
    const device = { device_id: crypto.randomUUID(), user_id: user.id };
    const server = await serverKey(device.device_id, password);
    const dataKey = await crypto.subtle.generateKey(AES, true, ["encrypt", "decrypt"]);
    await JF.db.vaultSet("server", await wrap(dataKey, server));
    await JF.db.vaultSet("device", device);
    await setPin(dataKey, pin);
  }

  /** Forgotten PIN, or after a wipe: the server's key (fresh login or password) opens the data key; a new PIN wraps it. */
  async function recover(device, pin, password) {
    const server = await serverKey(device.device_id, password);
    let dataKey;
    try {
      dataKey = await unwrap(await JF.db.vaultGet("server"), server, true);
    } catch (e) {
      throw new Error(t("本机的数据属于另一个账号，请用那个账号登录。"));
    }
    await setPin(dataKey, pin);
  }

  async function tryPin(pin) {
    const p = await JF.db.vaultGet("pin");
    try {
      await unlocked(await unwrap(p, await pinKey(pin, p.salt, p.iterations), false));
      await JF.db.vaultSet("tries", 0);
      return null;
    } catch (e) {
      const tries = ((await JF.db.vaultGet("tries")) || 0) + 1;
      if (tries < MAX_TRIES) {
        await JF.db.vaultSet("tries", tries);
        return t("PIN 不对，还可以再试 {n} 次。", { n: MAX_TRIES - tries });
      }
      await JF.db.wipeAllButUnsent();
      // Only a fresh login may release the server's key now: end this session too (best effort offline).
      await fetch("/api/v1/session", { method: "DELETE", credentials: "same-origin" }).catch(() => null);
      return "wiped";
    }
  }

  const pinInput = (id, label) => h("label", {}, label, h("input", { id, type: "password", inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{6}", maxlength: 6, required: true }));
  const val = (id) => document.getElementById(id).value;

  /** A form on the lock screen; `submit` returns an error to show, or nothing once unlocked. */
  function screen(title, intro, fields, button, submit, extra) {
    const err = h("p", { class: "flash error", role: "alert", hidden: true });
    const form = h("form", { class: "card narrow", id: "jf-lock" }, h("h2", {}, title), intro ? h("p", { class: "muted" }, intro) : null, err, fields,
      h("button", { type: "submit", class: "primary wide" }, button), extra || null);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      form.querySelector("button[type=submit]").disabled = true;
      err.hidden = true;
      let problem;
      try { problem = await submit(); } catch (ex) { problem = ex.message; }
      if (problem) {
        err.textContent = problem;
        err.hidden = false;
        form.querySelector("button[type=submit]").disabled = false;
      }
    });
    replace(view(), form);
    const first = form.querySelector("input");
    if (first) first.focus();
  }

  function newPin(onPin) {
    const a = val("jf-pin1");
    if (!/^[0-9]{6}$/.test(a)) return t("PIN 应为 6 位数字。");
    if (a !== val("jf-pin2")) return t("两次输入的 PIN 不一样。");
    return onPin(a);
  }

  const newPinFields = () => [pinInput("jf-pin1", t("新的 6 位数字 PIN")), pinInput("jf-pin2", t("再输一次"))];
  const passwordField = () => h("label", {}, t("登录密码"), h("input", { id: "jf-password", type: "password", autocomplete: "current-password", required: true }));

  function message(title, text, href, link) {
    replace(view(), h("div", { class: "card narrow", id: "jf-lock" }, h("h2", {}, title), h("p", {}, text), href ? h("a", { class: "button primary", href }, link) : null));
  }

  /** Resolves once the data key is in memory; until then the lock screen is all the app shows. */
  function ready() {
    return new Promise((done) => start(done));
  }

  async function start(done) {
    const [device, pin, wrapped] = await Promise.all([JF.db.vaultGet("device"), JF.db.vaultGet("pin"), JF.db.vaultGet("server")]);
    const user = navigator.onLine ? await session() : null;
    if (user === "deactivated") return JF.session.closed();
    if (user === "expired") return message(t("登录已过期"), t("为保护学生信息，请重新登录后再用 PIN 解锁。"), "/login?next=/app/", t("重新登录"));
    const finish = async (p) => { await p; done(); };
    if (pin) return unlockScreen(pin, device, finish);
    if (!user || user === null) {
      return message(t("需要联网"), t("请连接网络并登录，然后设置解锁 PIN。"), "/login?next=/app/", t("登录"));
    }
    if (device && wrapped) {
      const wiped = t("为保护学生信息，本机数据已锁住。未同步的记录还在手机上：请输入登录密码并设置新的 PIN，之后会自动同步。");
      return screen(t("恢复本机数据"), wiped, [passwordField(), ...newPinFields()], t("恢复并设置 PIN"),
        () => newPin((p) => finish(recover(device, p, val("jf-password")))));
    }
    setScreen(user, finish, false);
  }

  /** The first PIN; the password too when the login is no longer fresh (the server says so). */
  function setScreen(user, finish, askPassword) {
    screen(t("设置解锁 PIN"), t("手机上的学生信息会加密保存。每次打开或一段时间不用后，需要输入这个 PIN。"),
      [askPassword ? passwordField() : null, ...newPinFields()], t("设置 PIN"),
      () => newPin((p) => finish(create(user, p, askPassword ? val("jf-password") : null)).catch((e) => {
        if (e.code === "password_required" && !askPassword) return setScreen(user, finish, true);
        throw e;
      })));
  }

  function unlockScreen(pin, device, finish) {
    const forgot = h("p", {}, h("button", { type: "button", class: "link", id: "jf-forgot", on: { click: () => {
      screen(t("忘记 PIN"), t("请联网，输入登录密码，再设置新的 PIN。"), [passwordField(), ...newPinFields()], t("重设 PIN"),
        async () => { if (!(await session()) || !csrf) return t("请先联网登录。"); return newPin((p) => finish(recover(device, p, val("jf-password")))); });
    } } }, t("忘记 PIN？用登录密码重设")));
    screen(t("已锁定"), t("请输入 PIN 解锁。"), [pinInput("jf-pin", "PIN")], t("解锁"), async () => {
      const problem = await tryPin(val("jf-pin"));
      if (problem === "wiped") {
        message(t("PIN 错误次数过多"), t("本机的学生信息已清除，未同步的记录已保留。联网后用登录密码恢复它们。"), "/app/", t("用登录密码恢复"));
        return null;
      }
      if (problem) return problem;
      return finish(Promise.resolve());
    }, forgot);
  }

  /** Drop the key here and in the worker, then start over at the lock screen. */
  function lockNow() {
    const c = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (c) c.postMessage({ type: "jf-lock" });
    JF.crypt.setKey(null);
    location.reload();
  }

  function watchIdle() {
    for (const ev of ["pointerdown", "keydown", "touchstart", "input", "scroll"]) window.addEventListener(ev, () => { last = Date.now(); }, { passive: true });
    const check = () => { if (JF.crypt.ready() && Date.now() - last > lock.idleMs) lockNow(); };
    document.addEventListener("visibilitychange", check);  // timers sleep in the background: check on return
    let timer = null;
    lock.setIdle = (ms) => {  // also the browser tests' hook for a short idle time
      lock.idleMs = ms;
      clearInterval(timer);
      timer = setInterval(check, Math.max(200, Math.min(5000, ms / 4)));
    };
    lock.setIdle(lock.idleMs);
  }

  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (e) => { if (e.data && e.data.type === "jf-need-key") giveKeyToWorker(); });
    navigator.serviceWorker.addEventListener("controllerchange", giveKeyToWorker);
  }
  watchIdle();
  Object.assign(lock, { ready, lockNow, giveKeyToWorker, ITERATIONS });
  JF.lock = lock;
})(self.JF = self.JF || {});
