/* 家访通 the shell's language: t("中文", {n}) gives the words in the user's language from the catalogue the server
 * sends with the shell to users of other languages (/app/strings.js, app/shell_strings.py); Chinese, the default, is
 * the text itself. The language is the "lang" cookie (set by the language switch); the worker of that language caches
 * its words with the shell (workerUrl). */
(function (JF) {
  "use strict";
  const I18N = self.JF_I18N || { default: "zh", strings: {} };

  // The language the user chose, whether or not its words are here (the server sends them to its users only).
  const m = typeof document !== "undefined" && /(?:^|;\s*)lang=([^;]+)/.exec(document.cookie);
  const chosen = m ? decodeURIComponent(m[1]) : I18N.default;
  const lang = I18N.strings[chosen] || chosen === I18N.default ? chosen : I18N.default;
  const table = I18N.strings[lang] || {};

  /** The words for `msgid` in the user's language; {name} placeholders filled from `vars`. */
  function t(msgid, vars) {
    const text = table[msgid] || msgid;
    return vars ? text.replace(/\{(\w+)\}/g, (all, k) => (k in vars ? String(vars[k]) : all)) : text;
  }

  /** A text another script already put together in Chinese (outbox.js also runs in the worker, which has no
   * catalogue): translated by the first of `patterns` ("正在上传照片 {i}/{n}") it matches, else as a whole. */
  function tr(text, patterns) {
    if (lang === I18N.default || !text || table[text]) return t(text);
    for (const p of patterns || []) {
      const names = [];
      const re = new RegExp("^" + p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (all, k) => { names.push(k); return "(.*?)"; }) + "$");
      const m = re.exec(text);
      if (m) return t(p, Object.fromEntries(names.map((k, i) => [k, m[i + 1]])));
    }
    return text;
  }

  /** The shell page's own words (data-t on an element: its text is a msgid). */
  function translatePage() {
    if (lang === I18N.default) return;
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t || el.textContent.trim());
    for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
    document.title = t(document.title);
  }

  /** The service worker for the chosen language: it caches that language's words for offline use, and a new choice
   * is a new script URL, so the browser installs the worker that caches the new words at once. */
  const workerUrl = chosen === I18N.default ? "/sw.js" : "/sw.js?lang=" + encodeURIComponent(chosen);

  JF.i18n = { t, tr, lang, translatePage, workerUrl };
})(self.JF = self.JF || {});
