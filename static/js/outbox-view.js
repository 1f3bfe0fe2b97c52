/* 家访通 the outbox view (#/outbox): records waiting to be sent, drafts, and records the server sent back with its
 * reasons, field by field. Also the record rows the contact card lists. Sending them is outbox.js's job. */
(function (JF) {
  "use strict";
  const { h, fmtTime } = JF.ui;
  const STATUS = { queued: "待上传", draft: "草稿", rejected: "被退回" };
  const ERROR_LABELS = { child_id: "学生", occurred_at: "时间", photos: "照片", location: "位置", id: "编号", kind: "记录类型", record: "记录", client: "设备信息", fields: "内容" };

  function recordTitle(r) {
    const kind = JF.data.kindOf(r.kind);
    const child = JF.data.childOf(r.child_id);
    return (kind ? kind.label : r.kind) + " · " + ((child && child.name) || r.child_name || "学生 " + r.child_id);
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
      const text = Array.isArray(why) ? "有 " + why.length + " 张照片服务器还没有收到" : String(why);
      return h("li", { class: "error" }, label + "：" + text);
    });
  }

  async function discard(r) {
    if (!confirm("确定删除这条记录吗？删除后无法恢复。")) return;
    await JF.db.removeRecord(r.id);
    JF.db.notify("records");
    await JF.app.reload();
  }

  function recordItem(r) {
    const actions = [];
    if (r.status !== "queued") {
      actions.push(h("a", { class: "button", href: "#/record/" + r.id }, r.status === "rejected" ? "修改后重新提交" : "继续填写"));
      actions.push(h("button", { type: "button", class: "jf-discard", "data-id": r.id, on: { click: () => discard(r) } }, "删除"));
    }
    return h("li", { class: "record", "data-record": r.id, "data-status": r.status },
      h("div", { class: "row" },
        h("span", { class: "name" }, recordTitle(r)),
        h("span", { class: "meta" }, [fmtTime(r.occurred_at), (r.photos || []).length ? (r.photos.length + " 张照片") : null].filter(Boolean).join(" · ")),
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
      recordList(by("rejected"), "被退回的记录（请修改后重新提交）"),
      recordList(by("queued"), "等待上传"),
      recordList(by("draft"), "草稿（还没有保存）"),
    ].filter(Boolean);
    return [h("h1", {}, "待同步记录"),
      lists.length ? lists : h("p", { class: "muted", id: "jf-outbox-empty" }, "没有待同步的记录，全部已同步到学校。")];
  }

  JF.outboxView = { view, recordList, errorLines };
})(self.JF = self.JF || {});
