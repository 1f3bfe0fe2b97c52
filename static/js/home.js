/* 家访通 the home screen (#/, and #/children for a committee member): the outbox summary, emergencies reported on
 * this phone, what is due this period (the due list) and the children on the roster.
 * The due list is the server's (app/duties/services.py): the roster gives each rule's filter, windows (holidays already
 * left out) and counts; this file only picks today's window and adds what the outbox holds that the server has not
 * counted yet, matching a record to a rule by "field value in the rule's list" and nothing else. */
(function (JF) {
  "use strict";
  const { h, fmtDate } = JF.ui;
  const state = () => JF.app.state;

  /** The China date (UTC+8, no daylight saving) of a moment, as "YYYY-MM-DD": the server counts records by it. */
  const chinaDay = (t) => new Date(new Date(t).getTime() + 8 * 36e5).toISOString().slice(0, 10);

  /** A rule's periods on `day`, read from the server's windows: current contains it, previous is the one the server
   * named for it; a day in no window is out of season (a term-time rule in the holidays): nothing is due. */
  function periodsOn(rule, day) {
    const current = rule.windows.find((w) => w.start <= day && day <= w.end) || null;
    return [current, current ? current.previous || null : null];
  }

  /** Whether a record counts toward a rule: its kind, and each filtered field's value among the server's list. */
  const matches = (rule, rec) => rec.kind === rule.kind &&
    Object.entries(rule.filter || {}).every(([f, values]) => values.includes(String((rec.fields || {})[f])));

  /** {c, rule, label, kind, status: overdue|due, end} per child and rule not done, overdue first, then by due date;
   * "stale" when the day is outside the days the roster covers; null without a duty section. Saved records waiting in
   * the outbox and records acknowledged after the roster was fetched count toward every rule they match (drafts do
   * not). `day` (YYYY-MM-DD, China) defaults to today. */
  function duties(day) {
    const s = state();
    const D = s.roster && s.roster.duties;
    if (!D) return null;
    const today = day || chinaDay(Date.now());
    if (!D.rules.every((r) => Array.isArray(r.windows) && r.key) || !(D.valid_from <= today && today <= D.valid_until)) return "stale";
    const extra = s.records.filter((r) => r.status === "queued").concat(s.acked)
      .map((r) => ({ kind: r.kind, child_id: r.child_id, fields: r.fields, day: chinaDay(r.occurred_at) }));
    const rows = [];
    for (const r of D.rules) {
      // The server's counts are for its today's periods; a period the phone has moved into starts from nothing.
      const same = (a, b) => a && b && a.start === b.start && a.end === b.end;
      const known = (w, counts) => (same(w, r.current) ? counts.current || 0 : same(w, r.previous) ? counts.previous || 0 : 0);
      const [cur, prev] = periodsOn(r, today);
      if (!cur) continue;
      const mine = extra.filter((e) => matches(r, e));
      for (const c of s.roster.children) {
        // Whose duty it is, and for which children (a rule for some categories), the server decides.
        if (Array.isArray(c.duties) && !c.duties.includes(r.key)) continue;
        const counts = (D.counts[c.id] || {})[r.key] || {};
        const n = (w) => known(w, counts) + mine.filter((e) => e.child_id === c.id && e.day >= w.start && e.day <= w.end).length;
        if (n(cur) >= r.times) continue;
        rows.push({ c, rule: r.key, label: r.label, kind: r.kind, status: prev && n(prev) < r.times ? "overdue" : "due", end: cur.end });
      }
    }
    const key = (x) => [x.status === "due" ? 1 : 0, x.end, x.c.class_name || "", x.c.name, x.rule];
    return rows.sort((a, b) => { const ka = key(a), kb = key(b); for (let i = 0; i < ka.length; i++) { if (ka[i] < kb[i]) return -1; if (ka[i] > kb[i]) return 1; } return 0; });
  }

  function dutyList() {
    const rows = duties();
    if (!rows) return null;
    const section = (...body) => h("section", { class: "card", id: "jf-duties" }, h("h2", {}, "本期待办"), body);
    if (rows === "stale") return section(h("p", { class: "flash warn", id: "jf-duties-stale" }, "待办清单已过期，请在有网络时打开一次家访通更新。"));
    const md = (d) => +d.slice(5, 7) + "月" + +d.slice(8) + "日前";
    return section(rows.length ? h("ul", { class: "list" }, rows.map((x) => h("li", { "data-child": x.c.id, "data-kind": x.kind, "data-rule": x.rule, "data-status": x.status },
      h("a", { class: "row", href: "#/new/" + x.kind + "/" + x.c.id },
        h("span", { class: "name" }, (x.label || (JF.data.kindOf(x.kind) || {}).label || x.kind) + " · " + x.c.name),
        h("span", { class: "meta" }, x.status === "overdue" ? "上一期没有完成" : md(x.end))),
      x.status === "overdue" ? h("span", { class: "chip err" }, "逾期") : h("span", { class: "chip warn" }, "待办"))))
      : h("p", { class: "muted", id: "jf-duties-done" }, "本期都完成了"));
  }

  /** My open follow-ups (the roster's), the earliest due first; overdue ones marked. */
  function followUpList() {
    const list = (state().roster && state().roster.follow_ups) || [];
    if (!list.length) return null;
    const today = chinaDay(Date.now());
    return h("section", { class: "card", id: "jf-follow-ups" }, h("h2", {}, "我的跟进事项"),
      h("ul", { class: "list" }, list.map((f) => {
        const c = JF.data.childOf(f.child_id);
        return h("li", { "data-follow-up": f.id },
          h("a", { class: "row", href: "#/child/" + f.child_id },
            h("span", { class: "name" }, (c ? c.name : "") + " · " + (f.what || "心理辅导教师跟进")),
            h("span", { class: "meta" }, "期限 " + f.due_on)),
          f.due_on < today ? h("span", { class: "chip err" }, "逾期") : null);
      })));
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
    const out = [h("h1", {}, committee ? "本村儿童" : (JF.data.can("read_children") ? "我的学生" : "家访通"))];
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
      out.push(h("p", { class: "actions" }, JF.data.can("report_incidents") ? h("a", { class: "button", id: "jf-report", href: "#/incident/new" }, "报告突发事件") : null,
        JF.data.groupKinds().length ? h("a", { class: "button", id: "jf-activity", href: "#/activity" }, "记录集体活动") : null));
      out.push(JF.incident.list());
      out.push(JF.returns.list());
      out.push(dutyList());
      out.push(JF.survey.homeSection());
      out.push(followUpList());
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
