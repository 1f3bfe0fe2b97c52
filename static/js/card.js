/* 家访通 a child's contact card (#/child/<id>): who to call (guardian, parents, the responsible teacher, the school),
 * the kinds of record this user may start, and this child's records still on the phone. Works offline. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h, fmtDate, telLink } = JF.ui;

  function callRow(label, phone) {
    return h("li", {}, h("span", {}, label), telLink(phone));
  }

  /** The guardian's and the parents' call rows (the emergency view lists them too). */
  function contacts(c) {
    const calls = [];
    if (c.guardian) calls.push(callRow(c.guardian.relationship ? t("委托监护人 {name}（{relation}）", { name: c.guardian.name, relation: c.guardian.relationship }) : t("委托监护人 {name}", { name: c.guardian.name }), c.guardian.phone));
    for (const p of c.parents || []) calls.push(callRow((p.role === "father" ? t("父亲 {name}", { name: p.name }) : t("母亲 {name}", { name: p.name })) + (p.work_place ? " · " + p.work_place : ""), p.phone));
    return calls;
  }

  function view(id) {
    const s = JF.app.state;
    const committee = JF.data.isCommittee();
    const c = JF.data.childOf(Number(id));
    if (!c) return [h("p", { class: "flash warn" }, t("名单里没有这名学生。")), h("a", { href: "#/" }, t("返回"))];
    const calls = contacts(c);
    if (c.responsible_teacher) calls.push(callRow(t("包保责任人 {name}", { name: c.responsible_teacher.name }), c.responsible_teacher.phone));
    if (s.roster.school && s.roster.school.hotline) calls.push(callRow(t("学校电话 {name}", { name: s.roster.school.name }), s.roster.school.hotline));
    const last = c.last || {};
    const kinds = JF.data.writableKinds().filter((k) => k.name !== "new_child");  // a new child has no card yet
    const lastText = kinds.map((k) => (last[k.name] ? k.label + " " + fmtDate(last[k.name]) : null)).filter(Boolean).join(" · ") || t("还没有记录");
    return [
      h("section", { class: "card contact-card", id: "jf-card" },
        h("h1", {}, t("联系卡：{name}", { name: c.name })),
        h("p", { class: "muted" }, [c.class_name, c.village && c.village.name, c.address].filter(Boolean).join(" · ")),
        h("ul", { class: "calls" }, calls)),
      committee ? null : h("section", { class: "card" },
        h("h2", {}, t("新建记录")),
        h("p", { class: "muted" }, t("最近：{what}", { what: lastText })),
        kinds.length ? h("div", { class: "actions" }, kinds.map((k) =>
          h("a", { class: "button primary", href: k.form ? "#/" + k.form + "/" + c.id : "#/new/" + k.name + "/" + c.id, "data-kind": k.name }, k.label)))
          : h("p", { class: "flash warn" }, t("还没有记录表格。请在有网络时打开一次家访通。"))),
      committee ? null : h("p", {}, h("a", { class: "button", id: "jf-report", href: "#/incident/new/" + c.id }, t("报告突发事件"))),
      committee ? null : JF.returns.list(c.id),
      JF.outboxView.recordList(JF.data.recordsFor(c.id), t("这名学生待同步的记录")),
      committee ? null : JF.returns.reviews(c),
      h("p", {}, committee ? h("a", { href: "#/children" }, t("返回本村儿童")) : h("a", { href: "#/" }, t("返回我的学生"))),
    ];
  }

  JF.card = { view, contacts };
})(self.JF = self.JF || {});
