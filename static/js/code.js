/* 家访通 the village committee member's confirmation code screen (#/code): the RFC 6238 code of the member's own
 * secret (GET /api/v1/confirm/secret, kept on the phone), computed here every step, so it works offline. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h } = JF.ui;
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
    const s = JF.app.state;
    return s.confirm && s.user && s.confirm.user_id === s.user.id ? s.confirm : null;
  }

  function view() {
    const c = secretOf();
    const out = [h("h1", {}, t("确认口令"))];
    if (!JF.data.isCommittee()) return out.concat(h("p", { class: "flash warn" }, t("只有村干部账号有确认口令。")));
    if (!c) return out.concat(h("p", { class: "flash warn", id: "jf-code-missing" }, t("还没有确认口令。请在有网络时打开一次家访通，之后没有网络也能显示。")));
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
      left.textContent = t("{n} 秒后更换", { n: remaining });
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
        h("p", { class: "muted" }, t("家访时请把这 6 位数字告诉老师，老师填在家访记录的“村干部确认口令”里。没有网络也可以使用；口令每 {n} 分钟更换一次。",
          { n: Math.round(c.step / 60) }))),
      h("p", {}, h("a", { href: "#/children" }, t("本村儿童联系卡"))));
  }

  JF.code = { view, totp };
})(self.JF = self.JF || {});
