/* 家访通 emergencies (突发事件, #/incident/...): the report form, what was reported with its deadlines and the people
 * to call, and the list on the home screen. Reported offline too: kept in kv "incidents" and sent by the outbox,
 * idempotent by id. The categories and the three clocks are the server's (GET /api/v1/kinds → incident). */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h, toLocalInput, isoWithOffset, fmtTime } = JF.ui;
  const STATUS = { queued: t("待上报"), rejected: t("被退回"), sent: t("已上报") };
  const NO_RULES = t("还没有突发事件表格。请在有网络时打开一次家访通。");

  const categoryLabel = (value) => ((JF.data.incidentRules() || { categories: [] }).categories.find((c) => c.value === value) || { label: value }).label;

  function form(x) {
    const rules = JF.data.incidentRules();
    if (!rules) return [h("h1", {}, t("报告突发事件")), h("p", { class: "flash warn", id: "jf-incident-error" }, NO_RULES)];
    const kids = JF.data.children();
    const field = (id, text, el) => h("div", { class: "field" }, h("label", { for: id }, text + " *"), el);
    const el = h("form", { id: "jf-incident-form" },
      field("i-child", t("学生"), h("select", { id: "i-child", name: "child", required: true, value: x.child_id ? String(x.child_id) : "" },
        h("option", { value: "" }, t("请选择")), kids.map((c) => h("option", { value: String(c.id) }, c.name)))),
      h("fieldset", { class: "field" }, h("legend", {}, t("类别 *")), h("div", { class: "choices" }, rules.categories.map((c) =>
        h("label", { class: "choice" }, h("input", { type: "radio", name: "category", value: c.value, required: true, checked: x.category === c.value }), c.label)))),
      field("i-time", t("发生时间"), h("input", { type: "datetime-local", id: "i-time", name: "at", required: true, value: toLocalInput(new Date(x.occurred_at)) })),
      field("i-desc", t("发生了什么"), h("textarea", { id: "i-desc", name: "description", required: true, maxlength: 4000, value: x.description || "" })),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "jf-incident-save" }, t("保存并上报")),
        h("a", { class: "button", href: "#/" }, t("返回"))));
    el.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!el.reportValidity()) return;
      const v = el.elements;
      const c = kids.find((k) => k.id === Number(v.child.value));
      Object.assign(x, { child_id: c.id, child_name: c.name, category: v.category.value, occurred_at: isoWithOffset(new Date(v.at.value)),
        description: v.description.value.trim(), status: "queued", error: null, saved_at: new Date().toISOString() });
      await JF.db.kvUpdate("incidents", (l) => (l || []).filter((y) => y.id !== x.id).concat(x));
      JF.db.notify("incidents");
      await JF.app.reload();
      location.hash = "#/incident/" + x.id;
      JF.outbox.requestBackgroundSync();
      JF.app.trigger("save");
    });
    return [h("h1", {}, t("报告突发事件")), x.error ? h("p", { class: "flash error", id: "jf-incident-error" }, t("学校服务器退回了这份报告：{why}", { why: x.error })) : null, el];
  }

  /** The deadlines counted from the incident's time, as the server's clocks say. */
  function deadlines(x) {
    const t0 = Date.parse(x.occurred_at);
    const clocks = (JF.data.incidentRules() || { clocks: [] }).clocks;
    return h("ul", { class: "list", id: "jf-clocks" }, clocks.map((k) => h("li", { "data-clock": k.target },
      h("span", { class: "name" }, t("{within}通知{who}", { within: k.within, who: k.label })), h("strong", {}, fmtTime(new Date(t0 + k.minutes * 6e4).toISOString())))));
  }

  /** #/incident/new[/child], #/incident/<id>[/edit]: the form, or what was reported with its three deadlines. */
  function view(id, more) {
    const s = JF.app.state;
    if (!s.user) return [h("p", { class: "flash warn" }, t("请先在有网络时登录一次。"))];
    if (id === "new") return form({ id: crypto.randomUUID(), user_id: s.user.id, child_id: Number(more) || null, occurred_at: isoWithOffset(new Date()) });
    const x = s.incidents.find((y) => y.id === id);
    if (!x) return [h("p", { class: "flash" }, t("手机上没有这份报告（已上报一天后会从手机上删除）。")), h("a", { href: "#/" }, t("返回"))];
    if (more === "edit" && x.status === "rejected") return form(x);
    const c = JF.data.childOf(x.child_id) || { name: x.child_name };
    return [h("h1", {}, t("突发事件：{what} · {name}", { what: categoryLabel(x.category), name: c.name })),
      x.status === "sent" ? h("p", { class: "flash", id: "jf-incident-status", "data-status": x.status }, t("已上报学校。"), h("a", { href: x.url }, t("打开事件页面")))
        : x.status === "rejected" ? h("p", { class: "flash error", id: "jf-incident-status", "data-status": x.status }, t("学校服务器退回了这份报告：{why}", { why: x.error }), " ",
          h("a", { href: "#/incident/" + x.id + "/edit" }, t("修改后重新上报")))
          : h("p", { class: "flash warn", id: "jf-incident-status", "data-status": x.status }, t("已保存在手机上，有网络后自动上报学校。")),
      h("section", { class: "card" }, h("h2", {}, t("通知时限（从 {time} 起）", { time: fmtTime(x.occurred_at) })),
        deadlines(x),
        h("ul", { class: "calls" }, JF.card.contacts(c)),
        h("p", { class: "muted" }, t("每次通知（通知了谁、怎样、何时）请在联网后到事件页面登记；上报后学校校长会同时收到提醒。"))),
      h("p", {}, h("a", { href: "#/" }, t("返回")))];
  }

  /** The home screen's list of emergencies reported on this phone, with their state; null when there are none. */
  function list() {
    const xs = JF.app.state.incidents;
    if (!xs.length) return null;
    return h("ul", { class: "list", id: "jf-incidents" }, xs.map((x) => h("li", { "data-incident": x.id },
      h("a", { class: "row", href: "#/incident/" + x.id }, h("span", { class: "name" }, t("突发事件 · {name}", { name: x.child_name })),
        h("span", { class: "meta" }, fmtTime(x.occurred_at))), h("span", { class: x.status === "sent" ? "chip" : "chip err" }, STATUS[x.status]))));
  }

  JF.incident = { view, list };
})(self.JF = self.JF || {});
