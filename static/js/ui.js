/* 家访通 UI helpers: building DOM without innerHTML (no injection from names typed by users), times, phone links. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;

  /** h("a", {href, class, on: {click}}, children…): a DOM element; strings become text nodes. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k === "value") continue;  // set below, once options/children exist (textarea has no value attribute)
      else if (k in el && typeof v !== "string") el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    if (attrs && attrs.value !== undefined && attrs.value !== null) el.value = attrs.value;
    return el;
  }

  const pad = (n) => String(n).padStart(2, "0");

  /** "HH:MM" today, "M月D日 HH:MM" otherwise (the phone's local time). */
  function fmtTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (isNaN(d)) return "—";
    const hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
    const now = new Date();
    return d.toDateString() === now.toDateString() ? hm : t("{m}月{d}日 {time}", { m: d.getMonth() + 1, d: d.getDate(), time: hm });
  }

  function fmtDate(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? String(iso).slice(0, 10) : d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  /** A Date as the value of <input type=datetime-local> (local wall time). */
  function toLocalInput(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  /** ISO 8601 with the phone's UTC offset, as the server wants ("2026-11-20T15:04:00+08:00"). */
  function isoWithOffset(d) {
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? "+" : "-";
    const a = Math.abs(off);
    return toLocalInput(d) + ":" + pad(d.getSeconds()) + sign + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
  }

  function telLink(phone) {
    return phone ? h("a", { class: "tel", href: "tel:" + phone.replace(/[^0-9+]/g, "") }, phone) : null;
  }

  function replace(el, ...children) {
    el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  }

  JF.ui = { h, fmtTime, fmtDate, toLocalInput, isoWithOffset, telLink, replace };
})(self.JF = self.JF || {});
