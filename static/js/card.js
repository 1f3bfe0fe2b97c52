/* 家访通 a child's contact card (#/child/<id>): who to call (guardian, parents, the responsible teacher, the school),
 * the kinds of record this user may start, and this child's records still on the phone. Works offline. */
(function (JF) {
  "use strict";
  const { h, fmtDate, telLink } = JF.ui;

  function callRow(label, phone) {
    return h("li", {}, h("span", {}, label), telLink(phone));
  }

  /** The guardian's and the parents' call rows (the emergency view lists them too). */
  function contacts(c) {
    const calls = [];
    if (c.guardian) calls.push(callRow("委托监护人 " + c.guardian.name + (c.guardian.relationship ? "（" + c.guardian.relationship + "）" : ""), c.guardian.phone));
    for (const p of c.parents || []) calls.push(callRow((p.role === "father" ? "父亲 " : "母亲 ") + p.name + (p.work_place ? " · " + p.work_place : ""), p.phone));
    return calls;
  }

  function view(id) {
    const s = JF.app.state;
    const committee = JF.data.isCommittee();
    const c = JF.data.childOf(Number(id));
    if (!c) return [h("p", { class: "flash warn" }, "名单里没有这名学生。"), h("a", { href: "#/" }, "返回")];
    const calls = contacts(c);
    if (c.responsible_teacher) calls.push(callRow("包保责任人 " + c.responsible_teacher.name, c.responsible_teacher.phone));
    if (s.roster.school && s.roster.school.hotline) calls.push(callRow("学校电话 " + s.roster.school.name, s.roster.school.hotline));
    const last = c.last || {};
    const kinds = JF.data.writableKinds().filter((k) => k.name !== "new_child");  // a new child has no card yet
    const lastText = kinds.map((k) => (last[k.name] ? k.label + " " + fmtDate(last[k.name]) : null)).filter(Boolean).join(" · ") || "还没有记录";
    return [
      h("section", { class: "card contact-card", id: "jf-card" },
        h("h1", {}, "联系卡：" + c.name),
        h("p", { class: "muted" }, [c.class_name, c.village && c.village.name, c.address].filter(Boolean).join(" · ")),
        h("ul", { class: "calls" }, calls)),
      committee ? null : h("section", { class: "card" },
        h("h2", {}, "新建记录"),
        h("p", { class: "muted" }, "最近：" + lastText),
        kinds.length ? h("div", { class: "actions" }, kinds.map((k) =>
          h("a", { class: "button primary", href: k.form ? "#/" + k.form + "/" + c.id : "#/new/" + k.name + "/" + c.id, "data-kind": k.name }, k.label)))
          : h("p", { class: "flash warn" }, "还没有记录表格。请在有网络时打开一次家访通。")),
      committee ? null : h("p", {}, h("a", { class: "button", id: "jf-report", href: "#/incident/new/" + c.id }, "报告突发事件")),
      committee ? null : JF.returns.list(c.id),
      JF.outboxView.recordList(JF.data.recordsFor(c.id), "这名学生待同步的记录"),
      committee ? null : JF.returns.reviews(c),
      h("p", {}, committee ? h("a", { href: "#/children" }, "返回本村儿童") : h("a", { href: "#/" }, "返回我的学生")),
    ];
  }

  JF.card = { view, contacts };
})(self.JF = self.JF || {});
