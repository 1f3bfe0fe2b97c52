/* 家访通 local store: a small IndexedDB wrapper shared by the page and the service worker.
 * Stores: records (by id), photos (by sha256, the compressed Blob itself; a drawn signature's PNG too),
 * kv (roster, etag, kinds, incident rules, user, sync state, a committee member's code secret, incidents, records just acknowledged),
 * vault (lock.js's wrapped data keys, PIN salt and tries: nothing about a child).
 * Every value in records, photos and kv is sealed by crypto.js on the way in and opened on the way out. Read-modify-write
 * cannot stay in one IndexedDB transaction across WebCrypto's awaits (it would commit), so writers that read first
 * take one Web Lock instead (the page's tabs and the worker alike). */
(function (JF) {
  "use strict";
  const NAME = "jiafang";
  const VERSION = 2;
  const KEY_FIELD = { records: "id", photos: "sha" };
  const WRITE_LOCK = "jf-db-write";
  const CHANNEL = "jf-outbox";
  let opening = null;

  function promisify(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  function open() {
    if (opening) return opening;
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("records")) db.createObjectStore("records", { keyPath: "id" });
        if (!db.objectStoreNames.contains("photos")) db.createObjectStore("photos", { keyPath: "sha" });
        if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
        if (!db.objectStoreNames.contains("vault")) db.createObjectStore("vault");
      };
      req.onsuccess = () => {
        const db = req.result;
        // Logout deletes the database (and a newer version may upgrade it): let go at once, or it is blocked.
        db.onversionchange = () => {
          db.close();
          opening = null;
          if (JF.db.onwiped) JF.db.onwiped();
        };
        db.onclose = () => { opening = null; };
        resolve(db);
      };
      req.onerror = () => { opening = null; reject(req.error); };
      req.onblocked = () => console.warn("IndexedDB upgrade blocked by another tab");
    });
    return opening;
  }

  /** Run fn(stores) in one transaction; resolves with fn's result once the transaction has committed.
   * A failed write names its stores (err.jfWrite): storage.js tells the teacher what was not saved. */
  async function tx(names, mode, fn) {
    if (mode !== "readwrite") return run(names, mode, fn);
    try {
      return await run(names, mode, fn);
    } catch (err) {
      const e = err instanceof Error || (self.DOMException && err instanceof DOMException) ? err : new Error(String(err));
      try { e.jfWrite = [].concat(names); } catch (x) { /* a frozen error: the name still tells */ }
      throw e;
    }
  }

  async function run(names, mode, fn) {
    const db = await open();
    const t = db.transaction(names, mode);
    const stores = {};
    for (const n of [].concat(names)) stores[n] = t.objectStore(n);
    const done = new Promise((resolve, reject) => {
      t.oncomplete = resolve;
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error("transaction aborted"));
    });
    let result;
    try {
      result = await fn(stores);
    } catch (err) {
      done.catch(() => null);  // the abort rejects it too: the caller hears of err, not of an unhandled abort
      try { t.abort(); } catch (e) { /* already finished */ }
      throw err;
    }
    await done;
    return result;
  }

  const seal = (store, value) => JF.crypt.seal(value, KEY_FIELD[store]);
  const openAll = (list) => Promise.all(list.map(JF.crypt.open));

  /** One writer at a time for read-modify-write across tabs and the worker (see the header). */
  function writing(fn) {
    const locks = self.navigator && self.navigator.locks;
    return locks ? locks.request(WRITE_LOCK, fn) : fn();
  }

  const rawGet = (store, key) => tx(store, "readonly", (s) => promisify(s[store].get(key)));
  const get = async (store, key) => JF.crypt.open(await rawGet(store, key));
  const all = async (store) => openAll(await tx(store, "readonly", (s) => promisify(s[store].getAll())));
  const rawPut = (store, value, key) => tx(store, "readwrite", (s) => promisify(key === undefined ? s[store].put(value) : s[store].put(value, key)));
  const put = async (store, value, key) => rawPut(store, await seal(store, value), key);
  const del = (store, key) => tx(store, "readwrite", (s) => promisify(s[store].delete(key)));

  /** Change one record; fn gets the current value (or undefined) and returns the new one, or null to skip. */
  function update(store, key, fn) {
    return writing(async () => {
      const next = fn(await get(store, key));
      if (next) await put(store, next);
      return next;
    });
  }

  /** The blobs a record needs in the photos store: its photos and its signature (a field, not one of its photos). */
  function blobsOf(r) {
    const sig = r.fields && r.fields.signature;
    return (r.photos || []).concat(typeof sig === "string" && sig ? [sig] : []);
  }

  /** Delete a record and those of its blobs no other record needs, in one transaction. */
  function removeRecord(id) {
    return writing(async () => {
      const records = await all("records");
      const rec = records.find((r) => r.id === id);
      if (!rec) return false;
      const kept = new Set(records.filter((r) => r.id !== id).flatMap(blobsOf));
      await tx(["records", "photos"], "readwrite", async (s) => {
        await promisify(s.records.delete(id));
        for (const sha of blobsOf(rec)) if (!kept.has(sha)) await promisify(s.photos.delete(sha));
      });
      return true;
    });
  }

  /** Delete blobs that no record needs (e.g. a photo removed from a form, a signature drawn again). */
  function dropOrphanPhotos(shas) {
    return writing(async () => {
      const kept = new Set((await all("records")).flatMap(blobsOf));
      await tx("photos", "readwrite", async (s) => {
        for (const sha of shas) if (!kept.has(sha)) await promisify(s.photos.delete(sha));
      });
    });
  }

  const kvGet = (key) => get("kv", key);
  const kvSet = (key, value) => put("kv", value, key);
  /** Read-modify-write one kv entry (the page and the worker both change the same lists). */
  const kvUpdate = (key, fn) => writing(async () => {
    const v = fn(await kvGet(key));
    await kvSet(key, v);
    return v;
  });

  const vaultGet = (key) => rawGet("vault", key);
  const vaultSet = (key, value) => rawPut("vault", value, key);

  /** Seal what was stored before encryption existed (a phone updated with records waiting); run once unlocked. */
  function sealLegacy() {
    return writing(async () => {
      for (const store of ["records", "photos", "kv"]) {
        const [keys, values] = await tx(store, "readonly", async (s) => [await promisify(s[store].getAllKeys()), await promisify(s[store].getAll())]);
        for (let i = 0; i < keys.length; i++) {
          if (!JF.crypt.isSealed(values[i])) await rawPut(store, await seal(store, values[i]), KEY_FIELD[store] ? undefined : keys[i]);
        }
      }
    });
  }

  /** Too many wrong PINs: drop everything but what has not reached the school (records, their blobs, emergency
   * reports), which stays sealed for the server's key to open after a fresh login. */
  function wipeAllButUnsent() {
    return tx(["kv", "vault"], "readwrite", async (s) => {
      for (const k of await promisify(s.kv.getAllKeys())) if (k !== "incidents") await promisify(s.kv.delete(k));
      await promisify(s.vault.delete("pin"));
    });
  }

  /** Post to every tab and the worker (and this page's own listener). */
  function broadcast(msg) {
    try {
      const ch = new BroadcastChannel(CHANNEL);
      ch.postMessage(msg);
      ch.close();
    } catch (e) { /* no BroadcastChannel: each page still redraws on its own triggers */ }
  }

  /** Tell other tabs and the worker that the local store changed. */
  const notify = (what) => broadcast({ type: "changed", what: what || "records" });

  function listen(fn) {
    try {
      const ch = new BroadcastChannel(CHANNEL);
      ch.onmessage = (e) => fn(e.data || {});
      return ch;
    } catch (e) { return null; }
  }

  JF.db = { NAME, open, tx, get, all, put, del, update, blobsOf, removeRecord, dropOrphanPhotos, kvGet, kvSet, kvUpdate,
    vaultGet, vaultSet, sealLegacy, wipeAllButUnsent, broadcast, notify, listen, promisify, onwiped: null };
})(self.JF = self.JF || {});
