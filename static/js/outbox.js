/* 家访通 outbox: sends queued records and their photos (docs/sync-contract.md), and emergency reports. Runs in the page and in the service worker.
 * Rules: photos first, then records; a record leaves IndexedDB only after the server said created or duplicate;
 * 401/403 never drops anything; one flush at a time across tabs and the worker (Web Locks). */
(function (JF) {
  "use strict";
  const SYNC_TAG = "jf-outbox";
  const LOCK = "jf-outbox-flush";
  const BATCH = 20;          // small batches: a 2G link that drops mid-request loses little
  const MAX_ROUNDS = 3;      // missing_photos → upload again → resend, a bounded number of times
  const CHUNK = 64 * 1024;   // photo upload pieces: ~10 s each at 50 kbit/s, so progress is confirmed often on 2G
  const MSG = {
    auth: "登录已过期，请重新登录",
    network: "网络不通，有网络后会自动同步",
    server: "服务器暂时不可用，稍后自动重试",
    photoLost: "手机上找不到这张照片，请删除它后重新提交",
    signatureLost: "手机上找不到这个签名，请重新签名后提交",
    stuck: "部分照片未能上传，稍后自动重试",
    password: "请先修改密码：点此打开“我的账号”设置新密码",
    deactivated: "这个账号已停用",
    ended: "您已在其他设备上退出登录，请重新登录",
    held: "学生已改由其他教师结对，记录已交给校长处理",
  };

  class SyncError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;      // auth | network | server | client | password | deactivated | ended
      this.status = status || 0;
    }
  }

  async function readJson(resp) {
    try { return await resp.json(); } catch (e) { return {}; }
  }

  /** fetch with the CSRF header; turns transport and server failures into SyncErrors, retries a stale token once. */
  async function request(ctx, method, url, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: "application/json" }, await JF.device.headers(), opts.headers || {});
    if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = ctx.csrf;
    let resp;
    try {
      resp = await fetch(url, { method, headers, body: opts.body, credentials: "same-origin", cache: "no-store" });
    } catch (e) {
      throw new SyncError("network", MSG.network);
    }
    JF.device.observe(resp);
    if (resp.status === 401) {
      const body = await readJson(resp);
      if (body.error === "session_ended") throw new SyncError("ended", MSG.ended, 401);
      throw body.error === "account_deactivated" ? new SyncError("deactivated", MSG.deactivated, 401) : new SyncError("auth", MSG.auth, 401);
    }
    if (resp.status === 403) {
      const body = await readJson(resp);
      if (body.error === "password_change_required") throw new SyncError("password", MSG.password, 403);
      if (body.error === "csrf_failed" && !opts.retried) {
        await refreshSession(ctx);
        return request(ctx, method, url, Object.assign({}, opts, { retried: true }));
      }
      if (body.error === "csrf_failed") throw new SyncError("auth", MSG.auth, 403);
      throw new SyncError("client", body.message || MSG.server, 403);
    }
    if (resp.status >= 500 || resp.status === 429 || resp.status === 408) throw new SyncError("server", MSG.server, resp.status);
    return resp;
  }

  /** A fresh CSRF token right before sending: a form filled hours ago must still sync. */
  async function refreshSession(ctx) {
    const resp = await request(ctx, "GET", "/api/v1/session");
    const body = await readJson(resp);
    if (!resp.ok || !body.csrf_token) throw new SyncError("server", MSG.server, resp.status);
    ctx.csrf = body.csrf_token;
    ctx.user = body.user;
  }

  function progress(ctx, text) {
    if (ctx.onProgress) ctx.onProgress(text);
    JF.db.broadcast({ type: "progress", text });
  }

  async function saveState(patch) {
    const state = Object.assign({}, await JF.db.kvGet("sync"), patch);
    await JF.db.kvSet("sync", state);
    return state;
  }

  async function queued(userId) {
    const all = await JF.db.all("records");
    return all.filter((r) => r.status === "queued" && r.user_id === userId)
      .sort((a, b) => (a.saved_at < b.saved_at ? -1 : a.saved_at > b.saved_at ? 1 : 0));  // oldest first
  }

  function markUploaded(sha, uploaded) {
    return JF.db.update("photos", sha, (p) => p && Object.assign(p, { uploaded }));
  }

  function reject(id, errors) {
    return JF.db.update("records", id, (r) => r && r.status === "queued" && Object.assign(r, { status: "rejected", errors, updated_at: new Date().toISOString() }));
  }

  /** HEAD, then PUT if the server lacks it; returns null when the server holds the photo, else the reason to show.
   * HEAD's Upload-Offset says how much of an upload cut earlier the server kept: the chunks go on from there.
   * A signature goes up the same way, marked ?kind=signature (the server keeps it as a confirmation, not a photo). */
  async function uploadOne(ctx, sha, photo, signature) {
    const url = "/api/v1/photos/" + sha;
    const head = await request(ctx, "HEAD", url);
    if (head.status === 200) {
      await markUploaded(sha, true);
      return null;
    }
    if (!photo) return signature ? MSG.signatureLost : MSG.photoLost;
    const type = photo.type || photo.blob.type || (signature ? "image/png" : "image/jpeg");
    const put = signature ? url + "?kind=signature" : url;
    const offset = head.headers.get("Upload-Offset");
    const resp = offset === null || !photo.blob.size  // a server without resumable uploads: the whole file at once
      ? await request(ctx, "PUT", put, { body: photo.blob, headers: { "Content-Type": type } })
      : await sendChunks(ctx, put, photo.blob, type, Number(offset));
    if (resp.status === 200 || resp.status === 201) {
      await markUploaded(sha, true);
      return null;
    }
    const body = await readJson(resp);  // 400 hash_mismatch, 413, 415, 422: the teacher must fix the record
    return body.message || (signature ? "签名上传失败（" : "照片上传失败（") + resp.status + "）";
  }

  /** PUT the blob from `offset` on in CHUNK pieces (Content-Range); 202 and 409 say where the server is now.
   * A cut throws (the next flush asks HEAD again); returns the answer to the last chunk. */
  async function sendChunks(ctx, url, blob, type, offset) {
    let stuck = 0;
    for (;;) {
      const end = Math.min(blob.size, offset + CHUNK);
      const resp = await request(ctx, "PUT", url, { body: blob.slice(offset, end),
        headers: { "Content-Type": type, "Content-Range": "bytes " + offset + "-" + (end - 1) + "/" + blob.size } });
      if (resp.status !== 202 && resp.status !== 409) return resp;
      const next = Number(resp.headers.get("Upload-Offset"));
      stuck = next > offset ? 0 : stuck + 1;
      if (stuck > 2 || !(next >= 0 && next < blob.size)) throw new SyncError("server", MSG.server, resp.status);
      offset = next;
    }
  }

  /** Upload the photos and signatures the queued records need and the server may lack; refused ones send their records back. */
  async function uploadPhotos(ctx, queue) {
    const owners = new Map();  // sha → {ids, signature}
    for (const r of queue) {
      const sig = r.fields && r.fields.signature;
      for (const sha of JF.db.blobsOf(r)) {
        const o = owners.get(sha) || { ids: [], signature: false };
        o.ids.push(r.id);
        o.signature = o.signature || sha === sig;
        owners.set(sha, o);
      }
    }
    const pending = [];
    for (const [sha, o] of owners) {
      const photo = await JF.db.get("photos", sha);
      if (!photo || !photo.uploaded) pending.push(Object.assign({ sha, photo }, o));
    }
    let n = 0;
    for (const item of pending) {
      progress(ctx, (item.signature ? "正在上传签名 " : "正在上传照片 ") + (++n) + "/" + pending.length);
      const problem = await uploadOne(ctx, item.sha, item.photo, item.signature);
      if (problem) for (const id of item.ids) await reject(id, item.signature ? { "fields.signature": problem } : { photos: problem });
    }
  }

  function payload(r) {
    return {
      id: r.id, kind: r.kind, child_id: r.child_id, occurred_at: r.occurred_at, fields: r.fields,
      photos: r.photos || [], location: r.location || null,
      client: { saved_at: r.saved_at, online: !!r.online_at_save, sent_at: new Date().toISOString() },
      ...(r.corrects_id ? { corrects_id: r.corrects_id } : {}),
    };
  }

  /** POST in batches; returns true when some record named photos the server lacks (upload again, then resend). */
  async function sendRecords(ctx, queue, summary) {
    let missing = false;
    for (let i = 0; i < queue.length; i += BATCH) {
      const batch = queue.slice(i, i + BATCH);
      progress(ctx, "正在上传记录 " + Math.min(i + BATCH, queue.length) + "/" + queue.length);
      const resp = await request(ctx, "POST", "/api/v1/records", {
        body: JSON.stringify({ records: batch.map(payload) }), headers: { "Content-Type": "application/json" },
      });
      const body = await readJson(resp);
      if (!resp.ok || !Array.isArray(body.results)) throw new SyncError("client", body.message || "同步失败（" + resp.status + "）", resp.status);
      // Results come in the order sent; match by position (the server may normalise the id's spelling).
      for (let k = 0; k < batch.length; k++) {
        const res = body.results[k] || {};
        const id = batch[k].id;
        if (res.status === "created" || res.status === "duplicate" || res.status === "held") {
          // Counted by the server now, but not in the roster the phone holds until it is fetched again (the duties).
          // Only the fields a duty rule filters on stay, never what was written (this runs in the worker too: the
          // rules come from the stored roster).
          const r = batch[k];
          const roster = await JF.db.kvGet("roster");
          const rules = (roster && roster.duties && roster.duties.rules) || [];
          const names = new Set(rules.filter((x) => x.kind === r.kind).flatMap((x) => Object.keys(x.filter || {})));
          const fields = Object.fromEntries([...names].filter((f) => r.fields && f in r.fields).map((f) => [f, r.fields[f]]));
          // The confirmed record leaves first: bookkeeping that fails on a full phone must not block the queue.
          await JF.db.removeRecord(id);
          summary.sent++;
          if (res.status === "held") { summary.held++; continue; }  // not counted for its duties: no acked entry
          await JF.db.kvUpdate("acked", (a) => (a || []).concat({ user_id: r.user_id, kind: r.kind, child_id: r.child_id, occurred_at: r.occurred_at, fields, corrects_id: r.corrects_id || null, at: new Date().toISOString() }))
            .catch(() => null);  // only the due list's early update is lost: the next roster counts the record
        } else if (res.status === "missing_photos") {
          missing = true;
          for (const sha of (res.errors && res.errors.photos) || []) await markUploaded(sha, false);
        } else if (res.status === "rejected") {
          await reject(id, res.errors || {});
          summary.rejected++;
        }
      }
    }
    return missing;
  }

  /** Emergencies reported on this phone, one POST each (before records: they are urgent); kept a day after sending. */
  async function sendIncidents(ctx, summary) {
    const list = await JF.db.kvUpdate("incidents", (l) => (l || []).filter((x) => x.status !== "sent" || Date.now() - Date.parse(x.sent_at) < 864e5));
    for (const x of list.filter((y) => y.status === "queued" && y.user_id === ctx.user.id)) {
      progress(ctx, "正在上报突发事件");
      const resp = await request(ctx, "POST", "/api/v1/incidents", { headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ id: x.id, child_id: x.child_id, occurred_at: x.occurred_at, category: x.category, description: x.description }) });
      const body = await readJson(resp);
      const patch = resp.ok ? { status: "sent", incident_id: body.incident_id, url: body.url, sent_at: new Date().toISOString() }
        : { status: "rejected", error: body.message || "上报失败（" + resp.status + "）" };
      await JF.db.kvUpdate("incidents", (l) => (l || []).map((y) => (y.id === x.id && y.status === "queued" ? Object.assign(y, patch) : y)));
      if (resp.ok) summary.sent++;
      else summary.rejected++;
    }
  }

  async function run(opts) {
    const ctx = { csrf: null, user: null, onProgress: opts.onProgress };
    const summary = { ok: false, sent: 0, held: 0, rejected: 0, retry: false, auth: false, error: null, wipe: null, locked: false };
    // Locked (no data key in this page or worker): nothing can be read to send; unlocking flushes again.
    if (JF.crypt && !JF.crypt.ready()) return Object.assign(summary, { locked: true });
    try {
      await refreshSession(ctx);
      await sendIncidents(ctx, summary);
      let left = [];
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const queue = await queued(ctx.user.id);
        if (!queue.length) break;
        await uploadPhotos(ctx, queue);
        left = await queued(ctx.user.id);  // minus records whose photos were refused
        if (!(await sendRecords(ctx, left, summary))) { left = []; break; }
        left = await queued(ctx.user.id);
      }
      if (left.length) throw new SyncError("server", MSG.stuck);
      await saveState({ last_ok: new Date().toISOString(), error: null, user_id: ctx.user.id });
      summary.ok = true;
    } catch (err) {
      const e = err instanceof SyncError ? err : new SyncError("server", MSG.server + "（" + err.message + "）");
      summary.retry = e.code === "network" || e.code === "server";
      summary.auth = e.code === "auth";
      summary.error = { code: e.code, message: e.message, status: e.status, at: new Date().toISOString() };
      await saveState({ error: summary.error }).catch(() => null);  // a full phone: the answer still comes back
    } finally {
      progress(ctx, null);
      summary.wipe = JF.device.wipeOrder;  // everything it could send went first
      JF.db.notify("sync");
    }
    return summary;
  }

  function withLock(fn) {
    const locks = self.navigator && self.navigator.locks;
    return locks ? locks.request(LOCK, fn) : fn();
  }

  let running = null;
  let again = false;

  /** Send everything queued. Calls made while a flush runs here are folded into one more pass afterwards. */
  function flush(opts) {
    opts = opts || {};
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let result;
      do {
        again = false;
        result = await withLock(() => run(opts));
      } while (again && result.ok);
      return result;
    })().finally(() => { running = null; });
    return running;
  }

  /** Exponential backoff with jitter for the page: 5 s doubling to 5 min, reset after a success. */
  function scheduler(trigger) {
    const MIN = 5000;
    const MAX = 300000;
    let attempt = 0;
    let timer = null;
    return {
      nextAt: 0,
      after(result) {
        clearTimeout(timer);
        timer = null;
        this.nextAt = 0;
        if (!result || !result.retry) {
          if (result && result.ok) attempt = 0;
          return 0;
        }
        const delay = Math.round(Math.min(MAX, MIN * 2 ** attempt) * (0.75 + Math.random() * 0.5));
        attempt++;
        this.nextAt = Date.now() + delay;
        timer = setTimeout(trigger, delay);
        return delay;
      },
    };
  }

  /** Ask the browser to flush when the connection returns, even if the app is closed (Chromium's Background Sync). */
  async function requestBackgroundSync() {
    try {
      const reg = await navigator.serviceWorker.getRegistration();
      if (reg && reg.sync) {
        await reg.sync.register(SYNC_TAG);
        return true;
      }
    } catch (e) { /* not supported or not allowed: the online event and the button remain */ }
    return false;
  }

  JF.outbox = { SYNC_TAG, MSG, flush, scheduler, requestBackgroundSync, payload };
})(self.JF = self.JF || {});
