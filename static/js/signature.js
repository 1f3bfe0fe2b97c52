/* 家访通 the signature field: one pad for the offline app's record form and the online form.
 * A drawing becomes a PNG named by its SHA-256, like a photo. In the app it is kept in the photos store (it must
 * survive reload and offline) and named in a hidden field; the outbox uploads it with ?kind=signature before the
 * record. On the online form (templates/records/form.html) it goes into a hidden field as a PNG data URL. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  let urls = [];  // object URLs of the signatures on screen, revoked when the form is drawn again

  /** A pad on a <canvas>: pointer events, so a finger, a stylus and a mouse all draw. White, not transparent: the
   * server flattens the PNG for display, and transparent ink on transparent black would vanish. */
  function pad(canvas) {
    const ctx = canvas.getContext("2d");
    let last = null;
    let empty = true;
    const point = (e) => {
      const r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * (canvas.width / r.width), (e.clientY - r.top) * (canvas.height / r.height)];
    };
    function clear() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      Object.assign(ctx, { fillStyle: "#111", strokeStyle: "#111", lineWidth: 3, lineCap: "round", lineJoin: "round" });
      empty = true;
    }
    canvas.addEventListener("pointerdown", (e) => {
      if (e.button > 0) return;
      e.preventDefault();
      last = point(e);
      try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
      ctx.beginPath();
      ctx.arc(last[0], last[1], 1.5, 0, 2 * Math.PI);
      ctx.fill();  // a dot is part of a character too (点)
      empty = false;
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!last) return;
      e.preventDefault();
      const moves = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      for (const m of moves.length ? moves : [e]) {
        const p = point(m);
        ctx.beginPath();
        ctx.moveTo(last[0], last[1]);
        ctx.lineTo(p[0], p[1]);
        ctx.stroke();
        last = p;
      }
    });
    for (const ev of ["pointerup", "pointercancel", "lostpointercapture"]) canvas.addEventListener(ev, () => { last = null; });
    clear();
    return { clear, isEmpty: () => empty };
  }

  /** The drawing as a PNG named by its SHA-256, in the same shape as JF.capture.processPhoto's result. */
  async function png(canvas) {
    const blob = await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("toBlob"))), "image/png"));
    const sha = await JF.capture.sha256Hex(new Uint8Array(await blob.arrayBuffer()));
    return { sha, blob, type: "image/png", size: blob.size, width: canvas.width, height: canvas.height };
  }

  function release() {
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [];
  }

  /** The app's signature field of a record form; `save` persists the record after the hidden field changed. */
  function field(f, record, editable, save) {
    const { h } = JF.ui;
    const id = "f-" + f.name;
    const hidden = h("input", { type: "hidden", name: f.name, id, value: record.fields[f.name] || "" });
    const canvas = h("canvas", { width: 600, height: 220, id: id + "-pad", "aria-label": t("{label}：请在框内签名", { label: f.label }) });
    const ink = pad(canvas);
    const note = h("p", { class: "muted", id: id + "-note", hidden: true });
    const done = h("button", { type: "button", class: "primary", id: id + "-done", on: { click: () => commit() } }, t("签好了"));
    const drawing = h("div", { class: "sigpad" }, canvas,
      h("div", { class: "actions" }, h("button", { type: "button", class: "sig-clear", on: { click: () => ink.clear() } }, t("清除")), done));
    const saved = h("div", { class: "sig-saved", id: id + "-saved", hidden: true });

    const say = (text) => { note.hidden = !text; note.textContent = text || ""; };

    function show(sha) {
      drawing.hidden = !!sha || !editable;
      saved.hidden = !sha;
      JF.ui.replace(saved);
      if (!sha) return;
      JF.db.get("photos", sha).then((p) => {
        if (hidden.value !== sha) return;  // drawn again meanwhile
        if (!p) {
          say(t("手机上找不到这个签名，请重新签名。"));
          drawing.hidden = !editable;
          return;
        }
        const url = URL.createObjectURL(p.blob);
        urls.push(url);
        JF.ui.replace(saved, h("img", { class: "signature", src: url, alt: t("已保存的签名") }),
          editable ? h("div", {}, h("button", { type: "button", class: "link", id: id + "-redo", on: { click: redo } }, t("重新签名"))) : null);
      });
    }

    async function replaceWith(sha) {
      const old = hidden.value;
      hidden.value = sha;
      await save();
      if (old && old !== sha) await JF.db.dropOrphanPhotos([old]);
    }

    async function commit() {
      if (ink.isEmpty()) {
        say(t("请先在框内签名。"));
        return;
      }
      done.disabled = true;
      try {
        const p = await png(canvas);
        await JF.db.put("photos", Object.assign(p, { kind: "signature", uploaded: false, added_at: new Date().toISOString() }));
        await replaceWith(p.sha);
        say(t("签名已保存在手机上。"));
        show(p.sha);
      } catch (err) {
        say(t("签名未能保存，请再试一次（{why}）", { why: err && err.message }));
      } finally {
        done.disabled = false;
      }
    }

    async function redo() {
      await replaceWith("");
      ink.clear();
      say(null);
      show(null);
    }

    show(hidden.value);
    const el = h("div", { class: "field", id: id + "-field" }, h("label", {}, f.label), hidden, drawing, saved, note);
    // Saving the form with ink on the pad but "签好了" not pressed: keep the drawing rather than lose it.
    el.flushSignature = () => (!drawing.hidden && !ink.isEmpty() ? commit() : null);
    return el;
  }

  /** The online form's pads (.sigpad[data-target]): the drawing goes into the named hidden field when the form is sent. */
  function wireOnlineForm() {
    document.querySelectorAll(".sigpad[data-target]").forEach((box) => {
      const canvas = box.querySelector("canvas");
      const target = box.parentElement.querySelector(`input[name="${box.dataset.target}"]`);
      const ink = pad(canvas);
      box.querySelector(".sig-clear").addEventListener("click", () => { ink.clear(); target.value = ""; });
      canvas.closest("form").addEventListener("submit", () => { target.value = ink.isEmpty() ? "" : canvas.toDataURL("image/png"); });
    });
  }

  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireOnlineForm);
    else wireOnlineForm();
  }

  JF.signature = { pad, png, field, release };
})(self.JF = self.JF || {});
