/* 家访通 a group activity's attendance (家长会, 监护人培训, 主题班会…): the roster's children as a tick list, the child and,
 * for a parents' meeting or a training, the guardian. The rest of the activity form is form.js's (the server's kind
 * "activity" with group: true); who may be ticked is the roster, and the server checks it again. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h } = JF.ui;

  /** The attendance field: one row per roster child, with the ticks saved in the record's fields. */
  function field(f, record, editable) {
    const ticked = new Map(((record.fields && record.fields.attendance) || []).map((a) => [a.child_id, a]));
    const rows = JF.data.children().map((c) => {
      const a = ticked.get(c.id) || {};
      const box = (who, label) => h("label", { class: "choice" },
        h("input", { type: "checkbox", "data-att-child": c.id, "data-att-who": who, checked: a[who] === true, disabled: !editable }), label);
      return h("li", { "data-child": c.id }, h("span", { class: "name" }, c.name + (c.class_name ? " · " + c.class_name : "")),
        h("span", { class: "choices" }, box("child", t("学生到场")), box("guardian", t("监护人到场"))));
    });
    return h("fieldset", { class: "field attendance", id: "jf-attendance" }, h("legend", {}, f.label),
      f.help ? h("p", { class: "muted help" }, f.help) : null,
      rows.length ? h("ul", { class: "list" }, rows) : h("p", { class: "muted" }, t("名单里没有学生，请拍下纸质签到表。")));
  }

  /** [{child_id, child, guardian}] of the ticked rows (a row with no tick is left out). */
  function collect(form) {
    const byChild = new Map();
    for (const el of form.querySelectorAll("input[data-att-child]")) {
      if (!el.checked) continue;
      const id = Number(el.getAttribute("data-att-child"));
      const a = byChild.get(id) || { child_id: id, child: false, guardian: false };
      a[el.getAttribute("data-att-who")] = true;
      byChild.set(id, a);
    }
    return [...byChild.values()];
  }

  /** How many children a saved activity names, for the outbox and the form's title. */
  const summary = (record) => t("集体活动 · {n} 名学生", { n: ((record.fields && record.fields.attendance) || []).length });

  JF.activity = { field, collect, summary };
})(self.JF = self.JF || {});
