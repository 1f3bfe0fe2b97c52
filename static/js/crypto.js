/* 家访通 encryption at rest, shared by the page and the service worker: every value db.js keeps about children is
 * sealed with AES-GCM under the data key, which lives only in memory while the app is unlocked (lock.js unwraps it
 * with the PIN, or with the server's device key after a fresh login). A worker without the key cannot read or send. */
(function (JF) {
  "use strict";
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  let key = null;  // the data key (non-extractable CryptoKey), or null while locked

  class LockedError extends Error {
    constructor() { super("locked"); this.code = "locked"; }
  }

  const isSealed = (v) => !!(v && v.jf_sealed === 1);

  async function encrypt(bytes) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    return { iv, ct: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, bytes) };
  }

  const decrypt = (part) => crypto.subtle.decrypt({ name: "AES-GCM", iv: part.iv }, key, part.ct);

  /** A value's sealed form: its JSON and each Blob in it encrypted apart; `keyField` (the store's keyPath) stays clear. */
  async function seal(value, keyField) {
    if (!key) throw new LockedError();
    const blobs = [];
    const json = JSON.stringify(value, (k, v) => {
      if (typeof Blob !== "undefined" && v instanceof Blob) {
        blobs.push(v);
        return { jf_blob: blobs.length - 1 };
      }
      return v;
    });
    const out = Object.assign({ jf_sealed: 1 }, await encrypt(enc.encode(json)));
    out.blobs = [];
    for (const b of blobs) out.blobs.push(Object.assign({ type: b.type }, await encrypt(await b.arrayBuffer())));
    if (keyField && value && value[keyField] !== undefined) out[keyField] = value[keyField];
    return out;
  }

  /** The value back from its sealed form; a value stored before encryption comes back as it is (lock.js re-seals it). */
  async function open(stored) {
    if (!isSealed(stored)) return stored;
    if (!key) throw new LockedError();
    const blobs = [];
    for (const b of stored.blobs || []) blobs.push(new Blob([await decrypt(b)], { type: b.type }));
    return JSON.parse(dec.decode(await decrypt(stored)), (k, v) => (v && typeof v.jf_blob === "number" ? blobs[v.jf_blob] : v));
  }

  JF.crypt = {
    LockedError, isSealed, seal, open,
    ready: () => !!key,
    key: () => key,
    setKey: (k) => { key = k || null; },
  };
})(self.JF = self.JF || {});
