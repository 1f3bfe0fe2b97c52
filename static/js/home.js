/* 家访通 the home screen (#/, and #/children for a committee member): the outbox summary, emergencies reported on
 * this phone, a one-line summary of what is due this period, then the children (searchable offline), each with the
 * chips of its open duties; follow-ups, the survey and the other entries follow, folded or compact.
 * The due list is the server's (app/duties/services.py): the roster gives each rule's filter, windows (holidays already
 * left out) and counts; this file only picks today's window and adds what the outbox holds that the server has not
 * counted yet, matching a record to a rule by "field value in the rule's list" and nothing else. */
(function (JF) {
  "use strict";
  const { h, fmtDate } = JF.ui;
  const { t } = JF.i18n;
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

  const md = (d) => t("{m}月{d}日前", { m: +d.slice(5, 7), d: +d.slice(8) });
  const kindLabel = (x) => x.label || (JF.data.kindOf(x.kind) || {}).label || x.kind;
  // A chip says the rule's name only ("亲情电话", not "亲情电话：孩子与父母通话（每周）"): several fit on a line.
  const shortLabel = (x) => kindLabel(x).split(/：|:|（| \(/)[0].trim() || kindLabel(x);

  /** The compact summary at the top: how many duties are open this period and how many are overdue. */
  function dutySummary(rows) {
    if (!rows) return null;
    const section = (...body) => h("section", { class: "summary", id: "jf-duties" }, body);
    if (rows === "stale") return section(h("p", { class: "flash warn", id: "jf-duties-stale" }, t("待办清单已过期，请在有网络时打开一次家访通更新。")));
    if (!rows.length) return section(h("span", { class: "chip ok", id: "jf-duties-done" }, t("本期都完成了")));
    const late = rows.filter((x) => x.status === "overdue").length;
    return section(h("span", { class: "chip warn", id: "jf-duties-count" }, t("本期待办 {n}", { n: rows.length })),
      late ? h("span", { class: "chip err", id: "jf-duties-late" }, t("逾期 {n}", { n: late })) : null);
  }

  /** One chip per open duty of a child, a link to the form that does it. */
  const dutyChips = (rows) => rows.map((x) => h("a", {
    class: "chip " + (x.status === "overdue" ? "err" : "warn"), href: "#/new/" + x.kind + "/" + x.c.id,
    "data-child": x.c.id, "data-kind": x.kind, "data-rule": x.rule, "data-status": x.status, title: kindLabel(x),
  }, shortLabel(x) + " " + (x.status === "overdue" ? t("逾期") : md(x.end))));

  /** My open follow-ups (the roster's), folded: the earliest due first; overdue ones marked. */
  function followUpList() {
    const list = (state().roster && state().roster.follow_ups) || [];
    if (!list.length) return null;
    const today = chinaDay(Date.now());
    const late = list.filter((f) => f.due_on < today).length;
    return h("details", { class: "card fold", id: "jf-follow-ups" },
      h("summary", {}, t("我的跟进事项 {n}", { n: list.length }), late ? h("span", { class: "chip err" }, t("逾期 {n}", { n: late })) : null),
      h("ul", { class: "list" }, list.map((f) => {
        const c = JF.data.childOf(f.child_id);
        return h("li", { "data-follow-up": f.id },
          h("a", { class: "row", href: "#/child/" + f.child_id },
            h("span", { class: "name" }, (c ? c.name : "") + " · " + (f.what || t("心理辅导教师跟进"))),
            h("span", { class: "meta" }, t("期限 {date}", { date: f.due_on }))),
          f.due_on < today ? h("span", { class: "chip err" }, t("逾期")) : null);
      })));
  }

  /** The text a search matches: name, class and village, lower case. */
  const haystack = (c) => [c.name, c.class_name, c.village && c.village.name].filter(Boolean).join(" ").toLowerCase();

  /** The children, those with something overdue first, then something due; each with its duty chips. */
  function childRows(children, rows) {
    const mine = (c) => (Array.isArray(rows) ? rows.filter((x) => x.c.id === c.id) : []);
    const rank = (c) => { const m = mine(c); return m.some((x) => x.status === "overdue") ? 0 : m.length ? 1 : 2; };
    const ordered = children.map((c, i) => [rank(c), i, c]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
    return h("ul", { class: "list", id: "jf-children" }, ordered.map((c) => {
      const n = JF.data.recordsFor(c.id).length;
      const last = c.last && c.last.home_visit;
      const chips = dutyChips(mine(c));
      return h("li", { "data-child": c.id, "data-search": haystack(c) },
        h("a", { class: "row", href: "#/child/" + c.id },
          h("span", { class: "name" }, c.name),
          h("span", { class: "meta" }, [c.class_name, c.village && c.village.name, last ? t("上次家访 {date}", { date: fmtDate(last) }) : t("尚无家访记录")].filter(Boolean).join(" · "))),
        n ? h("span", { class: "chip warn" }, t("待同步 {n}", { n })) : null,
        chips.length ? h("div", { class: "chips" }, chips) : null);
    }));
  }

  /** A search box that filters the list in place as the user types (offline: the list is already here). */
  function searchBox(list) {
    const none = h("p", { class: "muted", id: "jf-search-none", hidden: true }, t("没有找到符合的学生。"));
    const input = h("input", { type: "search", id: "jf-search", autocomplete: "off", placeholder: t("搜索姓名、班级、村"),
      "aria-label": t("搜索姓名、班级、村"), on: { input: (e) => {
        const q = e.target.value.trim().toLowerCase();
        let shown = 0;
        for (const li of list.children) { li.hidden = !!q && !li.dataset.search.includes(q); if (!li.hidden) shown++; }
        none.hidden = shown > 0;
      } } });
    return [h("p", { class: "search" }, input), none];
  }

  /** My children; a committee member starts on the code screen and reaches the village's children with list=true. */
  function view(list) {
    const s = state();
    const committee = JF.data.isCommittee();
    if (committee && !list) return JF.code.view();
    const out = [h("h1", {}, committee ? t("本村儿童") : (JF.data.can("read_children") ? t("我的学生") : t("家访通")))];
    if (s.user) out.push(h("p", { class: "muted" }, t("{name} · 离线也可以查看联系卡、填写记录", { name: s.user.name })));
    const waiting = s.records.filter((r) => r.status !== "draft");
    if (waiting.length) {
      const rejected = waiting.filter((r) => r.status === "rejected").length;
      out.push(h("p", { class: rejected ? "flash error" : "flash" },
        t("有 {n} 条记录还没有同步到学校", { n: waiting.length }),
        rejected ? t("，其中 {n} 条被退回需要修改", { n: rejected }) : "", t("。"), " ",
        h("a", { href: "#/outbox" }, t("查看"))));
    }
    const rows = committee ? null : duties();
    if (!committee) {
      out.push(dutySummary(rows));
      // An emergency cannot wait below a long list: the entries stay at the top, one compact row.
      out.push(h("p", { class: "actions compact" },
        JF.data.can("report_incidents") ? h("a", { class: "button", id: "jf-report", href: "#/incident/new" }, t("报告突发事件")) : null,
        JF.data.groupKinds().length ? h("a", { class: "button", id: "jf-activity", href: "#/activity" }, t("记录集体活动")) : null));
      out.push(JF.incident.list());
      out.push(JF.returns.list());
    }
    const children = JF.data.children();
    if (!s.roster) {
      out.push(h("p", { class: "flash warn" }, t("还没有学生名单。请在有网络时打开一次家访通，名单会保存到手机上。")));
    } else if (!children.length) {
      out.push(h("p", { class: "muted" }, committee ? t("本村暂无儿童。") : t("暂无结对的学生。")));
    } else {
      const ul = childRows(children, rows);
      out.push(searchBox(ul), ul);
    }
    if (!committee) {
      out.push(followUpList());
      out.push(JF.survey.homeSection());
    }
    if (s.user) out.push(h("p", { class: "muted" }, t("{name} · 离线也可以查看联系卡、填写记录", { name: s.user.name })));
    return out;
  }

  JF.home = { view, duties, chinaDay };
})(self.JF = self.JF || {});
