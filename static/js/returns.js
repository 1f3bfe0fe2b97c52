/* 家访通 returns on the phone: the records the principal returned to this teacher (the roster's `returned`: reason,
 * deadline, the original's fields), listed on the home screen and the child's card and opened as a correction
 * (#/correct/<id>); and the review state of the teacher's latest records per child (the roster's `reviews`).
 * Everything here is the server's answer, kept offline; a correction already saved on the phone is not offered again. */
(function (JF) {
  "use strict";
  const { t } = JF.i18n;
  const { h, fmtDate, isoWithOffset } = JF.ui;
  const state = () => JF.app.state;

  /** The returned records the phone knows of, earliest deadline first (the server's order). */
  const all = () => (state().roster && state().roster.returned) || [];
  const byId = (id) => all().find((x) => x.id === Number(id));

  /** A correction of `id` saved on this phone: waiting in the outbox, or sent since the roster was fetched. */
  const corrected = (id) => state().records.some((r) => r.corrects_id === id && r.status !== "draft")
    || state().acked.some((a) => a.corrects_id === id);
  /** A correction of `id` started on this phone and not saved yet. */
  const draftOf = (id) => state().records.find((r) => r.corrects_id === id && r.status === "draft");

  /** "12月7日" from the server's China date. */
  const monthDay = (d) => t("{m}月{d}日", { m: +d.slice(5, 7), d: +d.slice(8, 10) });

  function item(x) {
    const kind = JF.data.kindOf(x.kind);
    const child = JF.data.childOf(x.child_id);
    const late = x.deadline && x.deadline < JF.home.chinaDay(Date.now());
    const done = corrected(x.id);
    const draft = draftOf(x.id);
    return h("li", { class: "record", "data-returned": x.id },
      h("div", { class: "row" },
        h("span", { class: "name" }, ((kind && kind.label) || x.kind) + " · " + ((child && child.name) || "") + " · " + fmtDate(x.occurred_at)),
        h("span", { class: "meta reason" }, t("退回原因：{why}", { why: x.reason })),
        x.deadline ? h("span", { class: "meta deadline" }, t("请在 {date} 前更正", { date: monthDay(x.deadline) })) : null,
        done ? h("p", { class: "muted", "data-corrected": 1 }, t("更正已保存，等待同步"))
          : h("div", { class: "actions" }, draft ? h("a", { class: "button primary", href: "#/record/" + draft.id }, t("继续填写更正"))
            : h("a", { class: "button primary", href: "#/correct/" + x.id }, t("写更正")))),
      h("span", { class: late ? "chip err" : "chip warn" }, late ? t("更正已逾期") : t("已退回")));
  }

  /** The returned records (of one child when `childId`), or nothing when there are none. */
  function list(childId) {
    const rows = all().filter((x) => !childId || x.child_id === childId);
    if (!rows.length) return null;
    return h("section", { class: "card", id: "jf-returned" }, h("h2", {}, t("退回给我（{n} 条）", { n: rows.length })),
      h("ul", { class: "list" }, rows.map(item)));
  }

  /** The review state of the teacher's latest records about a child, as the server last said. */
  function reviews(c) {
    const rows = c.reviews || [];
    if (!rows.length) return null;
    return h("section", { class: "card", id: "jf-reviews" }, h("h2", {}, t("我的记录审核情况")),
      h("ul", { class: "list" }, rows.map((r) => h("li", { "data-review": r.review_state },
        h("span", { class: "name" }, ((JF.data.kindOf(r.kind) || {}).label || r.kind) + " · " + fmtDate(r.occurred_at)),
        h("span", { class: r.review_state === "returned" ? "chip err" : r.review_state === "approved" ? "chip" : "chip warn" },
          r.label || r.review_state)))));
  }

  /** A new record correcting a returned one: the same kind, child, time and fields; the code and signature stay the
   * original's (the server lets the correction inherit them). */
  function newCorrection(id) {
    const x = byId(id);
    if (!x) return null;
    const s = state();
    const child = JF.data.childOf(x.child_id);
    return {
      id: crypto.randomUUID(), user_id: s.user.id, kind: x.kind, child_id: x.child_id, child_name: child ? child.name : "",
      occurred_at: isoWithOffset(new Date(x.occurred_at)), fields: Object.assign({}, x.fields), photos: [], location: null,
      corrects_id: x.id, status: "draft", errors: null, created_at: new Date().toISOString(), saved_at: null, persisted: false,
    };
  }

  /** What the correction form shows above its fields: the reason, the deadline, the evidence it keeps. */
  function banner(record) {
    const x = byId(record.corrects_id);
    const kept = x && x.confirm_state !== "none";
    return h("div", { class: "flash warn", id: "jf-correcting" },
      t("这是对 {date} 那条记录的更正，原记录会保留。", { date: x ? fmtDate(x.occurred_at) : "" }),
      x ? h("p", {}, t("退回原因：{why}", { why: x.reason })) : null,
      x && x.deadline ? h("p", {}, t("请在 {date} 前更正", { date: monthDay(x.deadline) })) : null,
      kept ? h("p", { id: "jf-kept" }, t("沿用原记录的村委会确认和签名，无需重新填写口令或签名。")) : null);
  }

  /** In a correction whose original has the committee's code or a signature, those fields are not asked again. */
  const keepsEvidence = (record) => {
    const x = record.corrects_id && byId(record.corrects_id);
    return !!(x && x.confirm_state !== "none");
  };

  JF.returns = { list, reviews, newCorrection, banner, keepsEvidence, corrected };
})(self.JF = self.JF || {});
