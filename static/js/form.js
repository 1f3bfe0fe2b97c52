/* 家访通 record form, built from the kinds the server published (/api/v1/kinds), never a hard-coded field list.
 * The record's UUID is made when the form opens; every change autosaves it to IndexedDB as a draft.
 * Also the emergency report (突发事件) and its three deadlines. */
(function (JF) {
  "use strict";
  const { h, toLocalInput, isoWithOffset, fmtTime } = JF.ui;
  let urls = [];  // thumbnail object URLs of the form on screen, revoked on the next render
  let sigUrls = [];  // the same for signatures (the thumbnails are redrawn on their own)

  function newRecord(kindName, childId) {
    const s = JF.app.state;
    const child = JF.views.childOf(childId);
    return {
      id: crypto.randomUUID(), user_id: s.user.id, kind: kindName, child_id: childId, child_name: child ? child.name : "",
      occurred_at: isoWithOffset(new Date()), fields: {}, photos: [], location: null,
      status: "draft", errors: null, created_at: new Date().toISOString(), saved_at: null, persisted: false,
    };
  }

  // Full-width digits (an input method left in Chinese mode) count as digits.
  const asciiDigits = (v) => v.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0)).replace(/\D/g, "");

  function input(f, value) {
    const id = "f-" + f.name;
    const label = h("label", { for: id }, f.label + (f.required ? " *" : ""));
    const help = f.help ? h("p", { class: "muted help", id: id + "-help" }, f.help) : null;
    if (f.type === "longtext") {
      return h("div", { class: "field" }, label, h("textarea", { id, name: f.name, required: f.required, maxlength: f.max_length, value: value || "" }), help);
    }
    if (f.type === "bool") {
      return h("div", { class: "field" }, h("label", { class: "choice" }, h("input", { type: "checkbox", name: f.name, id, checked: value === true }), f.label), help);
    }
    if (f.type === "enum") {
      return h("fieldset", { class: "field" }, h("legend", {}, f.label + (f.required ? " *" : "")),
        h("div", { class: "choices" }, f.choices.map((c) => h("label", { class: "choice" },
          h("input", { type: "radio", name: f.name, value: c.value, required: f.required, checked: value === c.value }), c.label))), help);
    }
    const attrs = { id, name: f.name, required: f.required, value: value === undefined || value === null ? "" : String(value),
      "aria-describedby": help ? id + "-help" : null };
    if (f.type === "int") Object.assign(attrs, { type: "number", inputmode: "numeric", min: f.min, max: f.max, step: 1 });
    else if (f.type === "code") {
      // A wrong code never blocks the record (the server flags it), but it must look like one: 6 digits.
      Object.assign(attrs, { type: "text", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6, autocomplete: "off",
        title: "请输入 6 位数字", class: "code", on: { input: (e) => {
          const v = asciiDigits(e.target.value).slice(0, 6);
          if (v !== e.target.value) e.target.value = v;
        } } });
    } else Object.assign(attrs, { type: "text", maxlength: f.max_length });  // and any type this page does not know yet
    return h("div", { class: "field" }, label, h("input", attrs), help);
  }

  /** A signature drawn on this screen: kept as a PNG Blob in the photos store (it must survive reload and offline),
   * named by its SHA-256 in a hidden field; the outbox uploads it with ?kind=signature before the record. */
  function signatureField(f, record, editable, save) {
    const id = "f-" + f.name;
    const hidden = h("input", { type: "hidden", name: f.name, id, value: record.fields[f.name] || "" });
    const canvas = h("canvas", { width: 600, height: 220, id: id + "-pad", "aria-label": f.label + "：请在框内签名" });
    const pad = JF.capture.signaturePad(canvas);
    const note = h("p", { class: "muted", id: id + "-note", hidden: true });
    const done = h("button", { type: "button", class: "primary", id: id + "-done", on: { click: () => commit() } }, "签好了");
    const drawing = h("div", { class: "sigpad" }, canvas,
      h("div", { class: "actions" }, h("button", { type: "button", class: "sig-clear", on: { click: () => pad.clear() } }, "清除"), done));
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
          say("手机上找不到这个签名，请重新签名。");
          drawing.hidden = !editable;
          return;
        }
        const url = URL.createObjectURL(p.blob);
        sigUrls.push(url);
        JF.ui.replace(saved, h("img", { class: "signature", src: url, alt: "已保存的签名" }),
          editable ? h("div", {}, h("button", { type: "button", class: "link", id: id + "-redo", on: { click: redo } }, "重新签名")) : null);
      });
    }

    async function replaceWith(sha) {
      const old = hidden.value;
      hidden.value = sha;
      await save();
      if (old && old !== sha) await JF.db.dropOrphanPhotos([old]);
    }

    async function commit() {
      if (pad.isEmpty()) {
        say("请先在框内签名。");
        return;
      }
      done.disabled = true;
      try {
        const p = await JF.capture.signaturePng(canvas);
        await JF.db.put("photos", Object.assign(p, { kind: "signature", uploaded: false, added_at: new Date().toISOString() }));
        await replaceWith(p.sha);
        say("签名已保存在手机上。");
        show(p.sha);
      } catch (err) {
        say("签名未能保存，请再试一次（" + (err && err.message) + "）");
      } finally {
        done.disabled = false;
      }
    }

    async function redo() {
      await replaceWith("");
      pad.clear();
      say(null);
      show(null);
    }

    show(hidden.value);
    const field = h("div", { class: "field", id: id + "-field" }, h("label", {}, f.label), hidden, drawing, saved, note);
    // Saving the form with ink on the pad but "签好了" not pressed: keep the drawing rather than lose it.
    field.flushSignature = () => (!drawing.hidden && !pad.isEmpty() ? commit() : null);
    return field;
  }

  function collect(form, kind) {
    const fields = {};
    for (const f of kind.fields) {
      const el = form.elements[f.name];
      if (!el) continue;
      if (f.type === "bool") fields[f.name] = el.checked;
      else if (f.type === "int") { if (el.value !== "") fields[f.name] = Number(el.value); }
      else if (el.value && el.value.trim()) fields[f.name] = el.value.trim();
    }
    return fields;
  }

  function render(record) {
    const s = JF.app.state;
    const kind = JF.views.kindOf(record.kind);
    const child = JF.views.childOf(record.child_id);
    if (!kind) return [h("p", { class: "flash warn" }, "没有这种记录的表格。请在有网络时打开一次家访通。")];
    urls.concat(sigUrls).forEach((u) => URL.revokeObjectURL(u));
    urls = [];
    sigUrls = [];
    const editable = record.status !== "queued";
    const thumbs = h("div", { class: "thumbs", id: "jf-thumbs" });
    const locText = h("p", { class: "muted", id: "jf-location" });
    const photoInput = h("input", { type: "file", id: "jf-photos", accept: "image/*", multiple: true });
    const photoNote = h("p", { class: "muted", id: "jf-photo-note", hidden: true });
    const form = h("form", { id: "jf-record-form", novalidate: false, "data-id": record.id },
      h("div", { class: "field" }, h("label", { for: "f-occurred" }, "时间 *"),
        h("input", { type: "datetime-local", id: "f-occurred", name: "occurred_at", required: true, value: toLocalInput(new Date(record.occurred_at)) })),
      kind.fields.map((f) => (f.type === "signature"
        ? signatureField(f, record, editable, () => persist())
        : input(f, record.fields[f.name]))),
      h("div", { class: "field" }, h("label", { for: "jf-photos" }, "照片"), photoInput, photoNote, thumbs),
      locText,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary", id: "jf-save", disabled: !editable }, record.status === "rejected" ? "重新提交" : "保存"),
        h("a", { class: "button", href: "#/child/" + record.child_id }, "返回")));

    let timer = null;
    // Once saved, this form's copy is stale: the outbox owns the record and may already have sent and deleted it.
    // Nothing (a late GPS fix, a pending autosave) may write it back.
    let closed = !editable;
    const persist = async () => {
      clearTimeout(timer);
      if (closed) return;
      record.fields = collect(form, kind);
      const when = form.elements.occurred_at.value;
      if (when) record.occurred_at = isoWithOffset(new Date(when));
      record.updated_at = new Date().toISOString();
      record.persisted = true;
      await JF.db.put("records", record);
      // The draft has an address now: a reload comes back to it.
      if (location.hash !== "#/record/" + record.id) history.replaceState(null, "", "#/record/" + record.id);
      JF.db.notify("records");
    };
    const autosave = () => { clearTimeout(timer); timer = setTimeout(persist, 400); };
    form.addEventListener("input", autosave);
    form.addEventListener("change", (e) => { if (e.target !== photoInput) autosave(); });

    function showThumbs() {
      urls.forEach((u) => URL.revokeObjectURL(u));
      urls = [];
      JF.ui.replace(thumbs);
      for (const sha of record.photos) {
        JF.db.get("photos", sha).then((p) => {
          if (!p) return;
          const url = URL.createObjectURL(p.blob);
          urls.push(url);
          thumbs.append(h("figure", { "data-sha": sha },
            h("img", { src: url, alt: "照片", "data-width": p.width, "data-height": p.height }),
            editable ? h("button", { type: "button", class: "link", on: { click: () => removePhoto(sha) } }, "删除照片") : null));
        });
      }
    }

    async function removePhoto(sha) {
      record.photos = record.photos.filter((x) => x !== sha);
      await persist();
      await JF.db.dropOrphanPhotos([sha]);
      showThumbs();
    }

    photoInput.addEventListener("change", async () => {
      if (closed) return;
      const files = Array.from(photoInput.files || []);
      photoInput.value = "";
      photoNote.hidden = false;
      for (let i = 0; i < files.length; i++) {
        photoNote.textContent = "正在压缩照片 " + (i + 1) + "/" + files.length + "…";
        try {
          const p = await JF.capture.processPhoto(files[i]);
          await JF.db.put("photos", Object.assign(p, { uploaded: false, added_at: new Date().toISOString() }));
          if (!record.photos.includes(p.sha)) record.photos.push(p.sha);
          await persist();
        } catch (err) {
          photoNote.textContent = "这张照片无法读取，请换一张（" + (err && err.message) + "）";
          return;
        }
      }
      photoNote.textContent = "照片已保存在手机上（" + record.photos.length + " 张）";
      showThumbs();
    });

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (closed || !form.reportValidity()) return;
      for (const el of form.querySelectorAll(".field")) if (el.flushSignature) await el.flushSignature();
      await persist();
      closed = true;
      record.status = "queued";
      const saved = await JF.db.update("records", record.id, (r) => r && Object.assign(r, {
        status: "queued", errors: null, saved_at: new Date().toISOString(), online_at_save: navigator.onLine,
      }));
      JF.db.notify("records");
      JF.app.afterSave(saved);
    });

    // GPS only helps: a fix that is slow or refused never blocks saving.
    if (record.location) {
      locText.textContent = "位置已记录（精度约 " + Math.round(record.location.accuracy_m || 0) + " 米）";
    } else if (editable && navigator.geolocation) {
      locText.textContent = "正在获取位置…（不影响保存）";
      navigator.geolocation.getCurrentPosition((pos) => {
        if (closed) return;
        record.location = { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: Math.round(pos.coords.accuracy) };
        locText.textContent = "位置已记录（精度约 " + record.location.accuracy_m + " 米）";
        if (record.persisted) persist();
      }, () => { locText.textContent = "未获取到位置（不影响保存）"; }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    }

    showThumbs();
    const head = [h("h1", {}, kind.label + "：" + ((child && child.name) || record.child_name))];
    if (record.status === "rejected") {
      head.push(h("div", { class: "flash error", id: "jf-rejected" }, "学校服务器退回了这条记录，请修改后重新提交：",
        h("ul", { class: "report-errors" }, JF.views.errorLines(record))));
    } else if (record.status === "queued") {
      head.push(h("p", { class: "flash" }, "已保存于 " + fmtTime(record.saved_at) + "，等待同步。"));
    }
    return [head, form];
  }

  async function open(params) {
    const s = JF.app.state;
    if (!s.user) return [h("p", { class: "flash warn" }, "请先在有网络时登录一次。")];
    if (params.id) {
      const r = await JF.db.get("records", params.id);
      if (!r) return [h("p", { class: "flash" }, "这条记录已同步或已删除。"), h("a", { href: "#/outbox" }, "返回")];
      r.persisted = true;
      return render(r);
    }
    return render(newRecord(params.kind, Number(params.child)));
  }

  // --- emergencies (突发事件): reported offline too, kept in kv "incidents" and sent by the outbox, idempotent by id ---

  const CATEGORIES = { injury: "受伤", illness: "急病", missing: "走失/失联", safety: "安全事故", other: "其他" };  // app/incidents/services.py
  const CLOCKS = [["guardian", 30, "通知监护人", "30 分钟内"], ["parents", 60, "通知父母", "1 小时内"], ["bureau", 120, "报告教育局", "2 小时内"]];

  function incidentForm(x) {
    const kids = (JF.app.state.roster && JF.app.state.roster.children) || [];
    const field = (id, text, el) => h("div", { class: "field" }, h("label", { for: id }, text + " *"), el);
    const form = h("form", { id: "jf-incident-form" },
      field("i-child", "学生", h("select", { id: "i-child", name: "child", required: true, value: x.child_id ? String(x.child_id) : "" },
        h("option", { value: "" }, "请选择"), kids.map((c) => h("option", { value: String(c.id) }, c.name)))),
      h("fieldset", { class: "field" }, h("legend", {}, "类别 *"), h("div", { class: "choices" }, Object.entries(CATEGORIES).map(([v, l]) =>
        h("label", { class: "choice" }, h("input", { type: "radio", name: "category", value: v, required: true, checked: x.category === v }), l)))),
      field("i-time", "发生时间", h("input", { type: "datetime-local", id: "i-time", name: "at", required: true, value: toLocalInput(new Date(x.occurred_at)) })),
      field("i-desc", "发生了什么", h("textarea", { id: "i-desc", name: "description", required: true, maxlength: 4000, value: x.description || "" })),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "jf-incident-save" }, "保存并上报"),
        h("a", { class: "button", href: "#/" }, "返回")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      const el = form.elements;
      const c = kids.find((k) => k.id === Number(el.child.value));
      Object.assign(x, { child_id: c.id, child_name: c.name, category: el.category.value, occurred_at: isoWithOffset(new Date(el.at.value)),
        description: el.description.value.trim(), status: "queued", error: null, saved_at: new Date().toISOString() });
      await JF.db.kvUpdate("incidents", (l) => (l || []).filter((y) => y.id !== x.id).concat(x));
      JF.db.notify("incidents");
      await JF.app.reload();
      location.hash = "#/incident/" + x.id;
      JF.outbox.requestBackgroundSync();
      JF.app.trigger("save");
    });
    return [h("h1", {}, "报告突发事件"), x.error ? h("p", { class: "flash error", id: "jf-incident-error" }, "学校服务器退回了这份报告：" + x.error) : null, form];
  }

  /** #/incident/new[/child], #/incident/<id>[/edit]: the form, or what was reported with its three deadlines. */
  function incident(id, more) {
    const s = JF.app.state;
    if (!s.user) return [h("p", { class: "flash warn" }, "请先在有网络时登录一次。")];
    if (id === "new") return incidentForm({ id: crypto.randomUUID(), user_id: s.user.id, child_id: Number(more) || null, occurred_at: isoWithOffset(new Date()) });
    const x = s.incidents.find((y) => y.id === id);
    if (!x) return [h("p", { class: "flash" }, "手机上没有这份报告（已上报一天后会从手机上删除）。"), h("a", { href: "#/" }, "返回")];
    if (more === "edit" && x.status === "rejected") return incidentForm(x);
    const c = JF.views.childOf(x.child_id) || { name: x.child_name };
    const t0 = Date.parse(x.occurred_at);
    return [h("h1", {}, "突发事件：" + CATEGORIES[x.category] + " · " + c.name),
      x.status === "sent" ? h("p", { class: "flash", id: "jf-incident-status", "data-status": x.status }, "已上报学校。", h("a", { href: x.url }, "打开事件页面"))
        : x.status === "rejected" ? h("p", { class: "flash error", id: "jf-incident-status", "data-status": x.status }, "学校服务器退回了这份报告：" + x.error + " ",
          h("a", { href: "#/incident/" + x.id + "/edit" }, "修改后重新上报"))
          : h("p", { class: "flash warn", id: "jf-incident-status", "data-status": x.status }, "已保存在手机上，有网络后自动上报学校。"),
      h("section", { class: "card" }, h("h2", {}, "通知时限（从 " + fmtTime(x.occurred_at) + " 起）"),
        h("ul", { class: "list", id: "jf-clocks" }, CLOCKS.map(([k, m, what, within]) => h("li", { "data-clock": k },
          h("span", { class: "name" }, within + what), h("strong", {}, fmtTime(new Date(t0 + m * 6e4).toISOString()))))),
        h("ul", { class: "calls" }, JF.views.contacts(c)),
        h("p", { class: "muted" }, "每次通知（通知了谁、怎样、何时）请在联网后到事件页面登记；上报后学校校长会同时收到提醒。")),
      h("p", {}, h("a", { href: "#/" }, "返回"))];
  }

  JF.form = { open, incident };
})(self.JF = self.JF || {});
