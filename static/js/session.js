/* 家访通 on every page: registers the service worker (install from any page) and guards logout.
 * Logout warns when records have not reached the school yet, then wipes this phone's copy of the children's data
 * (IndexedDB, and any Cache Storage that could hold it) before the server ends the session: a shared phone must not
 * show the next teacher anything of the previous one. A deactivated account's phone wipes the same way (closed). */
(function (JF) {
  "use strict";
  const { t, workerUrl } = JF.i18n;
  const DB_NAME = "jiafang";
  const SHELL_PREFIX = "jf-shell-";  // the shell cache holds no personal data; everything else goes
  const session = { loggingOut: false };

  function register() {
    if (!("serviceWorker" in navigator)) return;
    if (!document.querySelector('link[rel="manifest"]')) {
      // Server pages get the manifest here, so the app can be installed from any of them.
      const link = document.createElement("link");
      link.rel = "manifest";
      link.href = "/manifest.webmanifest";
      document.head.append(link);
    }
    navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch((err) => console.warn("service worker not registered", err));
  }

  /** How many records (drafts, waiting, sent back) and unsent emergency reports this phone holds; 0 without creating an empty database. */
  function countLocal() {
    return new Promise((resolve) => {
      let req;
      try {
        req = indexedDB.open(DB_NAME);
      } catch (e) {
        resolve(0);
        return;
      }
      // Only fires when the database does not exist: abort, so that counting never creates it.
      req.onupgradeneeded = () => req.transaction.abort();
      req.onerror = () => resolve(0);
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("records")) {
          db.close();
          resolve(0);
          return;
        }
        const t = db.transaction(["records", "kv"]);
        const count = t.objectStore("records").count();
        const inc = t.objectStore("kv").get("incidents");  // emergency reports not yet sent count too
        t.oncomplete = async () => {
          db.close();
          // Sealed (crypto.js): readable only in an unlocked app; elsewhere the records alone are counted.
          let list = inc.result || [];
          if (JF.crypt && JF.crypt.ready()) list = await JF.crypt.open(list).catch(() => []);
          if (!Array.isArray(list)) list = [];
          resolve(count.result + list.filter((x) => x.status !== "sent").length);
        };
        t.onerror = () => { db.close(); resolve(0); };
      };
    });
  }

  /** Delete the local database and every cache but the shell; other tabs and the worker close their connections on versionchange. */
  async function wipe() {
    await new Promise((resolve) => {
      const req = indexedDB.deleteDatabase(DB_NAME);
      req.onsuccess = req.onerror = () => resolve();
      req.onblocked = () => console.warn("waiting for other tabs to release the local database");
      setTimeout(resolve, 5000);  // the request stays queued and completes once they let go
    });
    if (self.caches) {
      for (const key of await caches.keys()) if (!key.startsWith(SHELL_PREFIX)) await caches.delete(key);
    }
  }

  /** push.js, loaded on demand (settings switch, logout). */
  const loadPush = () => import("/static/js/push.js").then(() => JF.push);

  /** Confirm, wipe, then run `finish` (which ends the server session). */
  async function logout(finish) {
    const n = await countLocal();
    if (n > 0 && !window.confirm(t("还有 {n} 条记录未同步，退出后将丢失，确定退出吗？", { n }))) return false;
    session.loggingOut = true;
    // Best effort: the next person must not get this user's pushes (else the server learns at the next push's 410).
    await Promise.race([loadPush().then((p) => p.drop()).catch(() => null), new Promise((r) => setTimeout(r, 3000))]);
    await wipe();
    await finish();
    return true;
  }

  /** The server says this account was deactivated: the phone keeps nothing of it. Records not sent are lost on purpose
   * (the school decided this person no longer works with its children's data). */
  async function closed() {
    session.loggingOut = true;  // the wipe's versionchange must not reload the page half way
    await wipe();
    location.href = "/login";  // the server says why there (and the login page wipes again: harmless)
  }

  function hookLogoutForm() {
    const form = document.getElementById("logout-form");
    if (!form) return;
    form.addEventListener("submit", (e) => {
      if (form.dataset.wiped) return;
      e.preventDefault();
      logout(() => {
        form.dataset.wiped = "1";
        form.submit();  // submit() fires no submit event: no loop
      });
    });
  }

  function hookShellLogout() {
    const button = document.getElementById("jf-logout");
    if (!button) return;
    button.addEventListener("click", () => {
      // Offline the server session cannot be ended: the next person would still be logged in.
      if (!navigator.onLine) {
        window.alert("请连接网络后再退出登录。");
        return;
      }
      logout(async () => {
        try {
          await fetch("/api/v1/session", { method: "DELETE", credentials: "same-origin" });
        } finally {
          location.href = "/login";
        }
      });
    });
  }

  register();
  if (document.querySelector('meta[name="jf-wipe"]')) {  // the login page of a deactivated account's cookie
    session.loggingOut = true;
    wipe();
  }
  hookLogoutForm();
  hookShellLogout();
  session.logout = logout;
  session.countLocal = countLocal;
  session.wipe = wipe;
  session.closed = closed;
  session.loadPush = loadPush;
  JF.session = session;
})(window.JF = window.JF || {});
