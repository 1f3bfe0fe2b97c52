/* 家访通 the record form (#/new/<kind>/<child>, #/record/<id>), built from the kinds the server published
 * (/api/v1/kinds), never a hard-coded field list: the photo button first, the required fields, the rest folded
 * ("更多内容"), GPS, and saving into the outbox.
 * The record's UUID is made when the form opens; every change autosaves it to IndexedDB as a draft.
 * The signature field is signature.js's; the emergency report is incident.js's. */
(function (JF) {
  "use strict";
  const { h, toLocalInput, isoWithOffset, fmtTime } = JF.ui;
  const { t } = JF.i18n;
  let urls = [];  // thumbnail object URLs of the form on screen, revoked on the next render
  const EVIDENCE = ["code", "signature"];  // field types a correction inherits from the original (returns.js)

  function newRecord(kindName, childId) {
    const s = JF.app.state;
    const child = JF.data.childOf(childId);
    const group = (JF.data.kindOf(kindName) || {}).group;  // an activity: its children are in its attendance
    return {
      id: crypto.randomUUID(), user_id: s.user.id, kind: kindName, child_id: group ? null : childId,
      child_name: group ? t("集体活动") : child ? child.name : "",
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
          h("input", { type: "radio", name: f.name, value: c.value, required: f.required, checked: (value === undefined ? f.default : value) === c.value }), c.label))), help);
    }
    const attrs = { id, name: f.name, required: f.required, value: value === undefined || value === null ? "" : String(value),
      "aria-describedby": help ? id + "-help" : null };
    if (f.type === "int") Object.assign(attrs, { type: "number", inputmode: "numeric", min: f.min, max: f.max, step: 1 });
    else if (f.type === "date") attrs.type = "date";  // YYYY-MM-DD, what the server validates
    else if (f.type === "code") {
      // A wrong code never blocks the record (the server flags it), but it must look like one: 6 digits.
      Object.assign(attrs, { type: "text", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6, autocomplete: "off",
        title: t("请输入 6 位数字"), class: "code", on: { input: (e) => {
          const v = asciiDigits(e.target.value).slice(0, 6);
          if (v !== e.target.value) e.target.value = v;
        } } });
    } else Object.assign(attrs, { type: "text", maxlength: f.max_length });  // and any type this page does not know yet
    return h("div", { class: "field" }, label, h("input", attrs), help);
  }

  function collect(form, kind) {
    const fields = {};
    for (const f of kind.fields) {
      const el = f.type === "attendance" ? form : form.elements[f.name];
      if (!el) continue;
      if (f.type === "attendance") fields[f.name] = JF.activity.collect(form);
      else if (f.type === "bool") fields[f.name] = el.checked;
      else if (f.type === "int") { if (el.value !== "") fields[f.name] = Number(el.value); }
      else if (el.value && el.value.trim()) fields[f.name] = el.value.trim();
    }
    return fields;
  }

  function render(record) {
    const s = JF.app.state;
    const kind = JF.data.kindOf(record.kind);
    const child = JF.data.childOf(record.child_id);
    if (!kind) return [h("p", { class: "flash warn" }, t("没有这种记录的表格。请在有网络时打开一次家访通。"))];
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [];
    JF.signature.release();
    const editable = record.status !== "queued";
    const keeps = JF.returns.keepsEvidence(record);  // a correction keeps the original's code and signature
    const thumbs = h("div", { class: "thumbs", id: "jf-thumbs" });
    const locText = h("p", { class: "muted", id: "jf-location" });
    const photoInput = h("input", { type: "file", id: "jf-photos", accept: "image/*", multiple: true, disabled: !editable });
    const photoNote = h("p", { class: "muted", id: "jf-photo-note", hidden: true });
    const fieldOf = (f) => (f.type === "signature" ? JF.signature.field(f, record, editable, () => persist())
      : f.type === "attendance" ? JF.activity.field(f, record, editable) : input(f, record.fields[f.name]));
    const shown = kind.fields.filter((f) => !(keeps && EVIDENCE.includes(f.type)));
    // The photos are the main evidence: first and large. Then the required fields and the other evidence (code,
    // signature); the rest folded, opened when one holds something (a draft, a returned record) so nothing typed hides.
    const more = shown.filter((f) => !f.required && f.type !== "attendance" && !EVIDENCE.includes(f.type));
    const filled = more.some((f) => { const v = record.fields[f.name]; return v !== undefined && v !== null && v !== "" && v !== false; });
    const form = h("form", { id: "jf-record-form", novalidate: false, "data-id": record.id },
      h("div", { class: "field", id: "jf-photo-field" },
        h("label", { class: "button primary photo-pick", for: "jf-photos", id: "jf-photo-button" }, t("拍照 / 添加照片"), photoInput),
        photoNote, thumbs),
      h("div", { class: "field" }, h("label", { for: "f-occurred" }, t("时间") + " *"),
        h("input", { type: "datetime-local", id: "f-occurred", name: "occurred_at", required: true, value: toLocalInput(new Date(record.occurred_at)) })),
      shown.filter((f) => !more.includes(f)).map(fieldOf),
      more.length ? h("details", { class: "card fold", id: "jf-more", open: filled || record.status === "rejected" },
        h("summary", {}, t("更多内容")), more.map(fieldOf)) : null,
      locText,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary", id: "jf-save", disabled: !editable }, record.status === "rejected" ? t("重新提交") : t("保存")),
        h("a", { class: "button", href: kind.group ? "#/" : "#/child/" + record.child_id }, t("返回"))));

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
            h("img", { src: url, alt: t("照片"), "data-width": p.width, "data-height": p.height }),
            editable ? h("button", { type: "button", class: "link", on: { click: () => removePhoto(sha) } }, t("删除照片")) : null));
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
      // The server's limit per record (from the roster): more would only be refused after uploading them all.
      const limit = ((JF.app.state.roster || {}).limits || {}).photos_per_record || Infinity;
      for (let i = 0; i < files.length; i++) {
        if (record.photos.length >= limit) {
          photoNote.textContent = t("每条记录最多 {limit} 张照片，其余 {n} 张没有添加。", { limit, n: files.length - i });
          showThumbs();
          return;
        }
        photoNote.textContent = t("正在压缩照片 {i}/{n}…", { i: i + 1, n: files.length });
        try {
          const sha = await JF.capture.keepPhoto(files[i]);
          if (!record.photos.includes(sha)) record.photos.push(sha);
          await persist();
        } catch (err) {
          photoNote.textContent = JF.storage.isWriteError(err) ? JF.storage.explain(err) : t("这张照片无法读取，请换一张（{why}）", { why: err && err.message });
          return;
        }
      }
      JF.storage.check();  // photos fill a phone: the space left is checked each time, not only at start
      photoNote.textContent = t("照片已保存在手机上（{n} 张）", { n: record.photos.length });
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
      locText.textContent = t("位置已记录（精度约 {n} 米）", { n: Math.round(record.location.accuracy_m || 0) });
    } else if (editable && navigator.geolocation) {
      locText.textContent = t("正在获取位置…（不影响保存）");
      navigator.geolocation.getCurrentPosition((pos) => {
        if (closed) return;
        record.location = { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: Math.round(pos.coords.accuracy) };
        locText.textContent = t("位置已记录（精度约 {n} 米）", { n: record.location.accuracy_m });
        if (record.persisted) persist();
      }, () => { locText.textContent = t("未获取到位置（不影响保存）"); }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    }

    showThumbs();
    const who = kind.group ? JF.activity.summary(record) : (child && child.name) || record.child_name;
    const head = [h("h1", { id: record.corrects_id ? "jf-correction-title" : null },
      record.corrects_id ? t("更正：{kind}记录 · {who}", { kind: kind.label, who }) : t("{kind}：{who}", { kind: kind.label, who }))];
    if (record.corrects_id) head.push(JF.returns.banner(record));
    if (record.status === "rejected") {
      head.push(h("div", { class: "flash error", id: "jf-rejected" }, t("学校服务器退回了这条记录，请修改后重新提交："),
        h("ul", { class: "report-errors" }, JF.outboxView.errorLines(record))));
    } else if (record.status === "queued") {
      head.push(h("p", { class: "flash" }, t("已保存于 {time}，等待同步。", { time: fmtTime(record.saved_at) })));
    }
    return [head, form];
  }

  async function open(params) {
    const s = JF.app.state;
    if (!s.user) return [h("p", { class: "flash warn" }, t("请先在有网络时登录一次。"))];
    if (params.id) {
      const r = await JF.db.get("records", params.id);
      if (!r) return [h("p", { class: "flash" }, t("这条记录已同步或已删除。")), h("a", { href: "#/outbox" }, t("返回"))];
      r.persisted = true;
      if (JF.survey.owns(r)) return JF.survey.render(r);  // a survey or a new child has its own form
      return render(r);
    }
    if (params.corrects) {
      const id = Number(params.corrects);
      const draft = JF.app.state.records.find((x) => x.corrects_id === id && x.status === "draft");
      if (draft) return render(Object.assign(draft, { persisted: true }));
      const r = JF.returns.corrected(id) ? null : JF.returns.newCorrection(id);
      if (!r) return [h("p", { class: "flash", id: "jf-no-correction" }, t("这条退回的记录已经更正，或已不在退回名单里。")), h("a", { href: "#/" }, t("返回"))];
      return render(r);
    }
    // Only a kind the server says this role may write (a stale link or the due list must not open another).
    const allowed = JF.data.writableKinds().concat(JF.data.groupKinds());
    if (JF.data.kindOf(params.kind) && !allowed.some((k) => k.name === params.kind)) {
      return [h("p", { class: "flash warn", id: "jf-not-writable" }, t("您的账号不能填写这种记录。")), h("a", { href: "#/" }, t("返回"))];
    }
    return render(newRecord(params.kind, Number(params.child)));
  }

  JF.form = { open, input, collect };
})(self.JF = self.JF || {});
