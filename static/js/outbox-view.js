/* 家访通 the outbox view (#/outbox): records waiting to be sent, drafts, and records the server sent back with its
 * reasons, field by field. Also the record rows the contact card lists. Sending them is outbox.js's job. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h, fmtTime } = JF.ui;
  const STATUS = { queued: t("待上传"), draft: t("草稿"), rejected: t("被退回") };
  const ERROR_LABELS = { child_id: t("学生"), occurred_at: t("时间"), photos: t("照片"), location: t("位置"), id: t("编号"), kind: t("记录类型"), record: t("记录"), client: t("设备信息"), fields: t("内容") };

  function recordTitle(r) {
    const kind = JF.data.kindOf(r.kind);
    const child = JF.data.childOf(r.child_id);
    return (kind ? kind.label : r.kind) + " · " + ((child && child.name) || r.child_name || t("学生 {id}", { id: r.child_id }));
  }

  /** "字段名：原因" lines for a record the server sent back. */
  function errorLines(r) {
    const kind = JF.data.kindOf(r.kind);
    return Object.entries(r.errors || {}).map(([key, why]) => {
      let label = ERROR_LABELS[key] || key;
      if (key.startsWith("fields.") && kind) {
        const f = kind.fields.find((x) => x.name === key.slice(7));
        label = f ? f.label : key.slice(7);
      }
      const text = Array.isArray(why) ? t("有 {n} 张照片服务器还没有收到", { n: why.length }) : JF.app.said(String(why));
      return h("li", { class: "error" }, t("{label}：{why}", { label, why: text }));
    });
  }

  async function discard(r) {
    if (!confirm(t("确定删除这条记录吗？删除后无法恢复。"))) return;
    await JF.db.removeRecord(r.id);
    JF.db.notify("records");
    await JF.app.reload();
  }

  function recordItem(r) {
    const actions = [];
    if (r.status !== "queued") {
      actions.push(h("a", { class: "button", href: "#/record/" + r.id }, r.status === "rejected" ? t("修改后重新提交") : t("继续填写")));
      actions.push(h("button", { type: "button", class: "jf-discard", "data-id": r.id, on: { click: () => discard(r) } }, t("删除")));
    }
    return h("li", { class: "record", "data-record": r.id, "data-status": r.status },
      h("div", { class: "row" },
        h("span", { class: "name" }, recordTitle(r)),
        h("span", { class: "meta" }, [fmtTime(r.occurred_at), (r.photos || []).length ? t("{n} 张照片", { n: r.photos.length }) : null].filter(Boolean).join(" · ")),
        r.status === "rejected" ? h("ul", { class: "report-errors" }, errorLines(r)) : null,
        actions.length ? h("div", { class: "actions" }, actions) : null),
      h("span", { class: r.status === "rejected" ? "chip err" : r.status === "draft" ? "chip" : "chip warn" }, STATUS[r.status] || r.status));
  }

  function recordList(records, title) {
    if (!records.length) return null;
    return h("section", {}, h("h2", {}, title), h("ul", { class: "list" }, records.map(recordItem)));
  }

  function view() {
    const rs = JF.app.state.records;
    const by = (st) => rs.filter((r) => r.status === st);
    const lists = [
      recordList(by("rejected"), t("被退回的记录（请修改后重新提交）")),
      recordList(by("queued"), t("等待上传")),
      recordList(by("draft"), t("草稿（还没有保存）")),
    ].filter(Boolean);
    return [h("h1", {}, t("待同步记录")),
      lists.length ? lists : h("p", { class: "muted", id: "jf-outbox-empty" }, t("没有待同步的记录，全部已同步到学校。"))];
  }

  JF.outboxView = { view, recordList, errorLines };
})(self.JF = self.JF || {});
