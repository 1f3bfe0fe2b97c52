/* 家访通 this phone as the server knows it: a random device id (kept in IndexedDB, gone with a wipe) and the phone's
 * clock sent with every API call; the server's clock and any wipe order read from every answer. Page and worker. */
(function (JF) {
  "use strict";
  const CLOCK_SLACK = 5 * 60 * 1000;  // the server's CLOCK_SLACK (app/devices/services.py)
  const device = { wipeOrder: null, offset: null };
  let id = null;

  async function deviceId() {
    if (id) return id;
    id = await JF.db.kvGet("device_id");
    if (!id) {
      id = self.crypto.randomUUID();
      await JF.db.kvSet("device_id", id).catch(() => null);  // a full phone still syncs, under a new id next time
    }
    return id;
  }

  /** The headers every API call carries. */
  async function headers() {
    let dev = null;
    try { dev = await deviceId(); } catch (e) { /* no local store: the call goes without */ }
    return Object.assign({ "X-Client-Time": new Date().toISOString() }, dev ? { "X-Device-Id": dev } : {});
  }

  /** Read the server's clock and any wipe order from an answer. */
  function observe(resp) {
    const server = Date.parse(resp.headers.get("X-Server-Time") || "");
    if (server) {
      device.offset = Date.now() - server;
      JF.db.kvSet("clock", { offset: device.offset, at: new Date().toISOString() }).catch(() => null);
    }
    const wipe = resp.headers.get("X-Wipe");
    if (wipe) device.wipeOrder = wipe;
    return resp;
  }

  /** A warning when the phone's clock is off by more than the slack, else null. */
  function clockWarning(clock) {
    const off = clock && clock.offset;
    if (!off || Math.abs(off) <= CLOCK_SLACK) return null;
    const min = Math.round(Math.abs(off) / 60000);
    // The worker has no catalogue (only pages show this): Chinese there.
    const t = (JF.i18n && JF.i18n.t) || ((m, v) => m.replace(/\{(\w+)\}/g, (all, k) => v[k]));
    const span = min >= 120 ? t("{n} 小时", { n: Math.round(min / 60) }) : t("{n} 分钟", { n: min });
    return t(off > 0 ? "手机时间不准：比北京时间快约 {span}。请在手机设置里打开“自动设置时间”或校准时间，否则记录会被退回。"
      : "手机时间不准：比北京时间慢约 {span}。请在手机设置里打开“自动设置时间”或校准时间，否则记录会被退回。", { span });
  }

  /** Forget the id (a wipe made this phone a new one). */
  function forget() { id = null; device.wipeOrder = null; }

  Object.assign(device, { CLOCK_SLACK, deviceId, headers, observe, clockWarning, forget });
  JF.device = device;
})(self.JF = self.JF || {});
