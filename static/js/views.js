/* 家访通 views: my children, a child's contact card, the outbox (waiting, drafts, records sent back with reasons). */
(function (JF) {
  "use strict";
  const { h, fmtTime, fmtDate, telLink } = JF.ui;
  const STATUS = { queued: "待上传", draft: "草稿", rejected: "被退回" };
  const ERROR_LABELS = { child_id: "学生", occurred_at: "时间", photos: "照片", location: "位置", id: "编号", kind: "记录类型", record: "记录", client: "设备信息", fields: "内容" };

  const state = () => JF.app.state;
  const kindOf = (name) => (state().kinds || []).find((k) => k.name === name);
  const childOf = (id) => ((state().roster && state().roster.children) || []).find((c) => c.id === id);
  const recordsFor = (childId) => state().records.filter((r) => r.child_id === childId && r.status !== "draft");

  /** Kinds this user may write: the server may say so per kind (writers); otherwise all it lists. */
  function writableKinds() {
    const role = state().user && state().user.role;
    return (state().kinds || []).filter((k) => !k.writers || k.writers.includes(role));
  }

  function recordTitle(r) {
    const kind = kindOf(r.kind);
    const child = childOf(r.child_id);
    return (kind ? kind.label : r.kind) + " · " + ((child && child.name) || r.child_name || "学生 " + r.child_id);
  }

  /** "字段名：原因" lines for a record the server sent back. */
  function errorLines(r) {
    const kind = kindOf(r.kind);
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

  function home() {
    const s = state();
    const out = [h("h1", {}, "我的学生")];
    if (s.user) out.push(h("p", { class: "muted" }, s.user.name + " · 离线也可以查看联系卡、填写记录"));
    const waiting = s.records.filter((r) => r.status !== "draft");
    if (waiting.length) {
      const rejected = waiting.filter((r) => r.status === "rejected").length;
      out.push(h("p", { class: rejected ? "flash error" : "flash" },
        "有 " + waiting.length + " 条记录还没有同步到学校",
        rejected ? "，其中 " + rejected + " 条被退回需要修改" : "", "。 ",
        h("a", { href: "#/outbox" }, "查看")));
    }
    const children = (s.roster && s.roster.children) || [];
    if (!s.roster) {
      out.push(h("p", { class: "flash warn" }, "还没有学生名单。请在有网络时打开一次家访通，名单会保存到手机上。"));
    } else if (!children.length) {
      out.push(h("p", { class: "muted" }, "暂无结对的学生。"));
    } else {
      out.push(h("ul", { class: "list", id: "jf-children" }, children.map((c) => {
        const n = recordsFor(c.id).length;
        const last = c.last && c.last.home_visit;
        return h("li", { "data-child": c.id },
          h("a", { class: "row", href: "#/child/" + c.id },
            h("span", { class: "name" }, c.name),
            h("span", { class: "meta" }, [c.class_name, c.village && c.village.name, last ? "上次家访 " + fmtDate(last) : "尚无家访记录"].filter(Boolean).join(" · "))),
          n ? h("span", { class: "chip warn" }, "待同步 " + n) : null);
      })));
    }
    return out;
  }

  function callRow(label, phone) {
    return h("li", {}, h("span", {}, label), telLink(phone));
  }

  function child(id) {
    const s = state();
    const c = childOf(Number(id));
    if (!c) return [h("p", { class: "flash warn" }, "名单里没有这名学生。"), h("a", { href: "#/" }, "返回")];
    const calls = [];
    if (c.guardian) calls.push(callRow("委托监护人 " + c.guardian.name + (c.guardian.relationship ? "（" + c.guardian.relationship + "）" : ""), c.guardian.phone));
    for (const p of c.parents || []) calls.push(callRow((p.role === "father" ? "父亲 " : "母亲 ") + p.name + (p.work_place ? " · " + p.work_place : ""), p.phone));
    if (c.responsible_teacher) calls.push(callRow("包保责任人 " + c.responsible_teacher.name, c.responsible_teacher.phone));
    if (s.roster.school && s.roster.school.hotline) calls.push(callRow("学校电话 " + s.roster.school.name, s.roster.school.hotline));
    const last = c.last || {};
    const lastText = (writableKinds().map((k) => last[k.name] ? k.label + " " + fmtDate(last[k.name]) : null).filter(Boolean).join(" · ")) || "还没有记录";
    const kinds = writableKinds();
    return [
      h("section", { class: "card contact-card", id: "jf-card" },
        h("h1", {}, "联系卡：" + c.name),
        h("p", { class: "muted" }, [c.class_name, c.village && c.village.name, c.address].filter(Boolean).join(" · ")),
        h("ul", { class: "calls" }, calls)),
      h("section", { class: "card" },
        h("h2", {}, "新建记录"),
        h("p", { class: "muted" }, "最近：" + lastText),
        kinds.length ? h("div", { class: "actions" }, kinds.map((k) =>
          h("a", { class: "button primary", href: "#/new/" + k.name + "/" + c.id, "data-kind": k.name }, k.label)))
          : h("p", { class: "flash warn" }, "还没有记录表格。请在有网络时打开一次家访通。")),
      recordList(recordsFor(c.id), "这名学生待同步的记录"),
      h("p", {}, h("a", { href: "#/" }, "返回我的学生")),
    ];
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

  async function discard(r) {
    if (!confirm("确定删除这条记录吗？删除后无法恢复。")) return;
    await JF.db.removeRecord(r.id);
    JF.db.notify("records");
    await JF.app.reload();
  }

  function outbox() {
    const rs = state().records;
    const by = (st) => rs.filter((r) => r.status === st);
    const lists = [
      recordList(by("rejected"), "被退回的记录（请修改后重新提交）"),
      recordList(by("queued"), "等待上传"),
      recordList(by("draft"), "草稿（还没有保存）"),
    ].filter(Boolean);
    return [h("h1", {}, "待同步记录"),
      lists.length ? lists : h("p", { class: "muted", id: "jf-outbox-empty" }, "没有待同步的记录，全部已同步到学校。")];
  }

  JF.views = { home, child, outbox, kindOf, childOf, writableKinds, errorLines };
})(self.JF = self.JF || {});
