/* 家访通 room on the phone: asks for persistent storage and says when it is refused, warns when space runs low (at
 * start and whenever photos are added), and turns a failed IndexedDB write into plain words for the teacher. */
(function (JF) {
  "use strict";
  const LOW_SPACE = 50 * 1024 * 1024;
  const t = (msgid, vars) => JF.i18n.t(msgid, vars);
  const WHAT = { records: "记录", photos: "照片", kv: "数据" };
  const storage = { persisted: null, warning: null, onwarning: null };

  /** True for an error of an IndexedDB write (quota, eviction, a store that went away). */
  function isWriteError(err) {
    return !!(err && (err.jfWrite || ["QuotaExceededError", "UnknownError", "InvalidStateError", "AbortError"].includes(err.name)));
  }

  /** What was not saved and what to do, in plain Chinese. */
  function explain(err) {
    const stores = (err && err.jfWrite) || [];
    const what = t(stores.includes("photos") ? "照片" : stores.includes("records") ? "记录" : WHAT[stores[0]] || "内容");
    const full = err && err.name === "QuotaExceededError";
    return t(full ? "手机存储空间不足，刚才的{what}没有保存到手机上。" : "手机存储出错，刚才的{what}没有保存到手机上。", { what }) +
      t("页面上填写的内容还在，请不要关闭此页：先联网同步已保存的记录，删除手机里不用的照片、视频或应用，然后再点一次保存。");
  }

  function warn(text) {
    storage.warning = text;
    if (storage.onwarning) storage.onwarning(text);
  }

  /** Ask once per start for persistent storage; say so when the browser refuses (it may then evict unsent records). */
  async function persist() {
    if (!(self.navigator && navigator.storage && navigator.storage.persist)) return null;
    try {
      storage.persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
    } catch (e) { storage.persisted = false; }
    return storage.persisted;
  }

  /** Warn when little space is left; returns the warning or null. */
  async function check() {
    if (!(self.navigator && navigator.storage && navigator.storage.estimate)) return null;
    try {
      const est = await navigator.storage.estimate();
      const free = est.quota - est.usage;
      if (est.quota && (free < LOW_SPACE || est.usage / est.quota > 0.9)) {
        warn(t("手机存储空间不足（剩余约 {n} MB），请尽快联网同步并清理手机空间，以免新记录无法保存。", { n: Math.max(0, Math.round(free / 1048576)) }));
        return storage.warning;
      }
    } catch (e) { /* estimate unsupported */ }
    return null;
  }

  Object.assign(storage, { LOW_SPACE, isWriteError, explain, persist, check });
  JF.storage = storage;
})(self.JF = self.JF || {});
