/* 家访通 the start-of-term survey (#/survey/<child>) and a new child found in the field (#/survey/new): forms built
 * from the server's kinds "survey" and "new_child", prefilled from the file the roster carries; each field goes back
 * with the value the phone showed ("base.<field>"), so the school sees what changed and spots a file changed meanwhile.
 * Saved into the outbox like any record (outbox.js sends it); the home screen lists who is still to survey. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h, isoWithOffset, fmtTime } = JF.ui;
  const SURVEY = "survey";
  const NEW_CHILD = "new_child";
  let urls = [];

  const owns = (r) => r.kind === SURVEY || r.kind === NEW_CHILD;
  const own = (kind) => kind.fields.filter((f) => !f.name.startsWith("base."));
  const surveyedHere = (id) => JF.app.state.records.some((r) => r.kind === SURVEY && r.child_id === id && r.status !== "draft")
    || (JF.app.state.acked || []).some((r) => r.kind === SURVEY && r.child_id === id);

  function blank(kind, child) {
    const s = JF.app.state;
    const fields = {};
    if (child) {
      for (const [k, v] of Object.entries(child.file || {})) if (v !== null && v !== undefined) { fields[k] = v; fields["base." + k] = v; }
    }
    return { id: crypto.randomUUID(), user_id: s.user.id, kind, child_id: child ? child.id : null, child_name: child ? child.name : "",
      occurred_at: isoWithOffset(new Date()), fields, photos: [], location: null, status: "draft", errors: null,
      created_at: new Date().toISOString(), saved_at: null };
  }

  function villageSelect(value) {
    const villages = (JF.app.state.roster && JF.app.state.roster.survey && JF.app.state.roster.survey.villages) || [];
    return h("div", { class: "field" }, h("label", { for: "f-village_id" }, t("村")),
      h("select", { id: "f-village_id", name: "village_id" }, h("option", { value: "" }, "—"),
        villages.map((v) => h("option", { value: String(v.id), selected: String(value) === String(v.id) }, v.name))));
  }

  function render(record) {
    const kind = JF.data.kindOf(record.kind);
    if (!kind) return [h("p", { class: "flash warn" }, t("没有摸底表格。请在有网络时打开一次家访通。"))];
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [];
    const editable = record.status !== "queued";
    const fields = own(kind);
    const photo = h("div", { class: "thumbs", id: "jf-survey-photo" });
    const photoInput = h("input", { type: "file", id: "jf-photos", accept: "image/*" });
    const form = h("form", { id: "jf-survey-form", "data-id": record.id },
      fields.map((f) => (f.name === "village_id" ? villageSelect(record.fields[f.name]) : JF.form.input(f, record.fields[f.name]))),
      record.kind === SURVEY ? h("div", { class: "field" }, h("label", { for: "jf-photos" }, t("孩子的照片（可不拍）")), photoInput, photo) : null,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary", id: "jf-save", disabled: !editable }, record.status === "rejected" ? t("重新提交") : t("保存")),
        h("a", { class: "button", href: record.child_id ? "#/child/" + record.child_id : "#/" }, t("返回"))));

    const showPhoto = async () => {
      JF.ui.replace(photo);
      const p = record.photos[0] && await JF.db.get("photos", record.photos[0]);
      if (!p) return;
      const url = URL.createObjectURL(p.blob);
      urls.push(url);
      photo.append(h("img", { src: url, alt: t("照片") }));
    };
    photoInput.addEventListener("change", async () => {
      const file = (photoInput.files || [])[0];
      photoInput.value = "";
      if (!file) return;
      try {
        record.photos = [await JF.capture.keepPhoto(file)];
      } catch (err) {
        JF.app.notice(t("这张照片无法读取，请换一张"));
        return;
      }
      showPhoto();
    });

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!editable || !form.reportValidity()) return;
      const values = JF.form.collect(form, { fields: fields.filter((f) => f.name !== "village_id") });
      if (form.elements.village_id && form.elements.village_id.value) values.village_id = Number(form.elements.village_id.value);
      // The bases stay as the roster gave them: they are what the teacher saw, whatever the form says now.
      const bases = Object.fromEntries(Object.entries(record.fields).filter(([k]) => k.startsWith("base.")));
      Object.assign(record, { fields: Object.assign(values, bases), status: "queued", errors: null,
        saved_at: new Date().toISOString(), online_at_save: navigator.onLine });
      if (record.kind === NEW_CHILD) record.child_name = values.name || "";
      await JF.db.put("records", record);
      JF.db.notify("records");
      JF.app.afterSave(record);
    });
    showPhoto();
    const child = JF.data.childOf(record.child_id);
    const head = [h("h1", {}, record.kind === SURVEY ? t("学期初摸底：{name}", { name: (child && child.name) || record.child_name }) : kind.label)];
    if (record.kind === SURVEY) head.push(h("p", { class: "muted" }, t("表中已填入档案里的内容。请按上门了解的实际情况修改；没有变化的不用改。学校审核后写入档案。")));
    if (record.status === "rejected") {
      head.push(h("div", { class: "flash error", id: "jf-rejected" }, t("学校服务器退回了这条记录，请修改后重新提交："),
        h("ul", { class: "report-errors" }, JF.outboxView.errorLines(record))));
    } else if (record.status === "queued") {
      head.push(h("p", { class: "flash" }, t("已保存于 {time}，等待同步。", { time: fmtTime(record.saved_at) })));
    }
    return [head, form];
  }

  /** #/survey/<child id> or #/survey/new. */
  function open(which) {
    const s = JF.app.state;
    if (!s.user) return [h("p", { class: "flash warn" }, t("请先在有网络时登录一次。"))];
    const kindName = which === "new" ? NEW_CHILD : SURVEY;
    if (!JF.data.writableKinds().some((k) => k.name === kindName)) {
      return [h("p", { class: "flash warn", id: "jf-not-writable" }, t("您的账号不能填写这种记录。")), h("a", { href: "#/" }, t("返回"))];
    }
    if (which === "new") return render(blank(NEW_CHILD, null));
    const child = JF.data.childOf(Number(which));
    if (!child || !child.file) return [h("p", { class: "flash warn" }, t("名单里没有这名学生的档案。请在有网络时打开一次家访通。")), h("a", { href: "#/" }, t("返回"))];
    return render(blank(SURVEY, child));
  }

  /** The home screen's part: who is still to survey this term, and the new-child form. */
  function homeSection() {
    const roster = JF.app.state.roster;
    if (!roster || !roster.survey || !JF.data.writableKinds().some((k) => k.name === SURVEY)) return null;
    const todo = JF.data.children().filter((c) => c.file && !c.surveyed && !surveyedHere(c.id));
    return h("section", { class: "card", id: "jf-survey" },
      h("h2", {}, roster.survey.term ? t("学期初摸底（{term}）", { term: roster.survey.term }) : t("学期初摸底")),
      todo.length ? h("ul", { class: "list" }, todo.map((c) => h("li", { "data-child": c.id },
        h("a", { class: "row", href: "#/survey/" + c.id }, h("span", { class: "name" }, c.name),
          h("span", { class: "meta" }, [c.class_name, c.village && c.village.name].filter(Boolean).join(" · "))),
        h("span", { class: "chip warn" }, t("未摸底")))))
        : h("p", { class: "muted", id: "jf-survey-done" }, t("本学期摸底都完成了")),
      h("p", {}, h("a", { class: "button", id: "jf-new-child", href: "#/survey/new" }, t("报告新发现的留守儿童"))));
  }

  JF.survey = { open, render, owns, homeSection };
})(self.JF = self.JF || {});
