/* 家访通 the home screen (#/, and #/children for a committee member): the outbox summary, emergencies reported on
 * this phone, what is due this period (the due list) and the children on the roster.
 * The due list is the server's (app/duties/services.py): the roster gives each rule's periods and counts, this file
 * only picks today's period from them and adds what the outbox holds that the server has not counted yet. */
(function (JF) {
  "use strict";
  const { h, fmtDate } = JF.ui;
  const state = () => JF.app.state;

  /** The China date (UTC+8, no daylight saving) of a moment, as "YYYY-MM-DD": the server counts records by it. */
  const chinaDay = (t) => new Date(new Date(t).getTime() + 8 * 36e5).toISOString().slice(0, 10);

  /** A rule's periods on `day`, read from the server's windows: current contains it, previous ended last before it. */
  function periodsOn(rule, day) {
    const current = rule.windows.find((w) => w.start <= day && day <= w.end) || null;
    const previous = rule.windows.filter((w) => w.end < day).pop() || null;
    return [current, previous];
  }

  /** {c, kind, status: overdue|due, end} per child and rule not done, overdue first, then by due date; "stale" when
   * the phone's date is outside the days the roster covers; null without a duty section. Saved records waiting in
   * the outbox and records acknowledged after the roster was fetched count (drafts do not). */
  function duties() {
    const s = state();
    const D = s.roster && s.roster.duties;
    if (!D) return null;
    const today = chinaDay(Date.now());
    if (!D.rules.every((r) => Array.isArray(r.windows)) || !(D.valid_from <= today && today <= D.valid_until)) return "stale";
    const extra = s.records.filter((r) => r.status === "queued").concat(s.acked)
      .map((r) => ({ kind: r.kind, child_id: r.child_id, day: chinaDay(r.occurred_at) }));
    const rows = [];
    for (const r of D.rules) {
      // The server's counts are for its today's periods; a period the phone has moved into starts from nothing.
      const known = (w, counts) => (r.current && w.start === r.current.start && w.end === r.current.end ? counts.current || 0
        : r.previous && w.start === r.previous.start && w.end === r.previous.end ? counts.previous || 0 : 0);
      const [cur, prev] = periodsOn(r, today);
      for (const c of s.roster.children) {
        const counts = (D.counts[c.id] || {})[r.kind] || {};
        const n = (w) => known(w, counts) + extra.filter((e) => e.kind === r.kind && e.child_id === c.id && e.day >= w.start && e.day <= w.end).length;
        if (cur && n(cur) >= r.times) continue;
        const status = prev && n(prev) < r.times ? "overdue" : cur ? "due" : null;
        if (status) rows.push({ c, kind: r.kind, status, end: cur ? cur.end : "" });
      }
    }
    return rows.sort((a, b) => (a.status === "due") - (b.status === "due") || a.end.localeCompare(b.end));
  }

  function dutyList() {
    const rows = duties();
    if (!rows) return null;
    const section = (...body) => h("section", { class: "card", id: "jf-duties" }, h("h2", {}, "本期待办"), body);
    if (rows === "stale") return section(h("p", { class: "flash warn", id: "jf-duties-stale" }, "待办清单已过期，请在有网络时打开一次家访通更新。"));
    const md = (d) => +d.slice(5, 7) + "月" + +d.slice(8) + "日前";
    return section(rows.length ? h("ul", { class: "list" }, rows.map((x) => h("li", { "data-child": x.c.id, "data-kind": x.kind, "data-status": x.status },
      h("a", { class: "row", href: "#/new/" + x.kind + "/" + x.c.id },
        h("span", { class: "name" }, ((JF.data.kindOf(x.kind) || {}).label || x.kind) + " · " + x.c.name),
        h("span", { class: "meta" }, x.status === "overdue" ? "上一期没有完成" : md(x.end))),
      x.status === "overdue" ? h("span", { class: "chip err" }, "逾期") : h("span", { class: "chip warn" }, "待办"))))
      : h("p", { class: "muted", id: "jf-duties-done" }, "本期都完成了"));
  }

  function childRows(children) {
    return h("ul", { class: "list", id: "jf-children" }, children.map((c) => {
      const n = JF.data.recordsFor(c.id).length;
      const last = c.last && c.last.home_visit;
      return h("li", { "data-child": c.id },
        h("a", { class: "row", href: "#/child/" + c.id },
          h("span", { class: "name" }, c.name),
          h("span", { class: "meta" }, [c.class_name, c.village && c.village.name, last ? "上次家访 " + fmtDate(last) : "尚无家访记录"].filter(Boolean).join(" · "))),
        n ? h("span", { class: "chip warn" }, "待同步 " + n) : null);
    }));
  }

  /** My children; a committee member starts on the code screen and reaches the village's children with list=true. */
  function view(list) {
    const s = state();
    const committee = JF.data.isCommittee();
    if (committee && !list) return JF.code.view();
    const out = [h("h1", {}, committee ? "本村儿童" : "我的学生")];
    if (s.user) out.push(h("p", { class: "muted" }, s.user.name + " · 离线也可以查看联系卡、填写记录"));
    const waiting = s.records.filter((r) => r.status !== "draft");
    if (waiting.length) {
      const rejected = waiting.filter((r) => r.status === "rejected").length;
      out.push(h("p", { class: rejected ? "flash error" : "flash" },
        "有 " + waiting.length + " 条记录还没有同步到学校",
        rejected ? "，其中 " + rejected + " 条被退回需要修改" : "", "。 ",
        h("a", { href: "#/outbox" }, "查看")));
    }
    if (!committee) {
      out.push(h("p", {}, h("a", { class: "button", id: "jf-report", href: "#/incident/new" }, "报告突发事件")));
      out.push(JF.incident.list());
      out.push(JF.returns.list());
      out.push(dutyList());
    }
    const children = JF.data.children();
    if (!s.roster) {
      out.push(h("p", { class: "flash warn" }, "还没有学生名单。请在有网络时打开一次家访通，名单会保存到手机上。"));
    } else if (!children.length) {
      out.push(h("p", { class: "muted" }, committee ? "本村暂无儿童。" : "暂无结对的学生。"));
    } else {
      out.push(childRows(children));
    }
    return out;
  }

  JF.home = { view, duties, chinaDay };
})(self.JF = self.JF || {});
