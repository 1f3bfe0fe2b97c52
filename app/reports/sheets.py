"""The monthly report and the term record as workbooks (the roster has its own module: it must stay importable)."""
from __future__ import annotations

from flask_babel import gettext as _
from openpyxl import Workbook

from ..clock import CHINA
from ..duties.services import DUTY_KINDS, PERIOD_LABELS
from ..incidents.services import CATEGORIES, CLOCKS, TARGET_LABELS
from ..followups.services import STATUS_LABELS
from ..activities.services import TYPE_LABELS
from ..records.kinds import KINDS
from ..verify.labels import CONFIRM_LABELS, REVIEW_LABELS
from .xlsx import append_row, bold_header, workbook_bytes

PERCENT = "0.0%"


def _kind(k: str) -> str:
    return str(KINDS[k].label)


def monthly_columns(report: dict) -> list[tuple[str, str]]:
    """(key, header) of the monthly table; the coverage columns follow the school's rules."""
    cols = [("school", _("学校")), ("class_name", _("班级")), ("on_file", _("月末在册人数")), ("new", _("本月新增")),
            ("left", _("本月离开")), ("home_visit", _("家访次数")), ("talk", _("谈心次数")),
            ("contact", _("家庭联系次数"))]
    for r in report["rules"]:
        if r.key in report["judged"]:
            if f"of_{r.key}" in report["total"]:  # a rule for some categories: how many children it is for
                cols.append((f"of_{r.key}", _("%(kind)s应达标人数", kind=r.title)))
            cols += [(f"done_{r.key}", _("%(kind)s达标人数", kind=r.title)),
                     (f"coverage_{r.key}", _("%(kind)s达标率", kind=r.title))]
    cols += [("confirmed_share", _("家访经村委会确认比例")), ("approved_share", _("记录审核通过比例")),
             ("incidents", _("突发事件数"))]
    cols += [(f"in_time_{t}", _("按时通知%(who)s", who=str(TARGET_LABELS[t]))) for t in CLOCKS]
    return cols


def monthly_xlsx(report: dict, school_name: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("月报")
    cols = monthly_columns(report)
    bold_header(ws, [h for _k, h in cols])
    total = report["total"] | {"class_name": _("全校合计")}
    for row in [total, *report["rows"]]:
        append_row(ws, [school_name if k == "school" else row.get(k) for k, _h in cols])
        for cell, (k, _h) in zip(ws[ws.max_row], cols):
            if k.endswith("_share") or k.startswith("coverage_"):
                cell.number_format = PERCENT
    inc = wb.create_sheet(_("突发事件"))
    headers = [_("事件编号"), _("学校"), _("班级"), _("类别"), _("发生时间")]
    for t, limit in CLOCKS.items():
        headers += [_("通知%(who)s用时（分钟）", who=str(TARGET_LABELS[t])),
                    _("%(n)d 分钟内", n=int(limit.total_seconds() // 60))]
    bold_header(inc, headers)
    for i in report["incidents"]:
        line = [i["id"], school_name, i["class_name"], str(CATEGORIES.get(i["category"], i["category"])),
                i["occurred_at"].strftime("%Y-%m-%d %H:%M")]
        for t in CLOCKS:
            line += [i[f"minutes_{t}"], _("是") if i[f"in_time_{t}"] else _("否")]
        append_row(inc, line)
    notes = wb.create_sheet(_("说明"))
    m = report["month"]
    append_row(notes, [_("月份"), m.start.strftime("%Y-%m")])
    append_row(notes, [_("统计区间"), f"{m.start.isoformat()} — {m.end.isoformat()}"])
    append_row(notes, [_("生成时间"), report["made_at"].strftime("%Y-%m-%d %H:%M")])
    for r in report["rules"]:
        periods = report["judged"].get(r.key)
        span = "；".join(f"{w.start.isoformat()}—{w.end.isoformat()}" for w in periods) if periods else _("本月不考核")
        append_row(notes, [r.title, _("%(period)s %(n)d 次", period=str(PERIOD_LABELS[r.period]), n=r.times),
                           span])
    for line in (_("只统计汇总数，不含任何儿童姓名。时间按北京时间。"),
                 _("次数只计待审核和已通过的记录；被退回的记录在更正后计入。"),
                 _("达标：在每个考核周期内都完成了规定次数的在册儿童；按周的任务看周日落在本月的各周，"
                   "按季度或学期的任务看截至月末的进度。"),
                 _("只针对某些分类的任务，只考核这些分类的儿童：达标率 = 达标人数 ÷ 应达标人数。")):
        append_row(notes, [line])
    return workbook_bytes(wb)


def term_xlsx(rec: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("汇总")
    t, w = rec["teacher"], rec["term"]
    for label, value in ((_("教师"), t.name), (_("账号"), t.username), (_("学期"), rec["term_name"]),
                         (_("学期起止"), f"{w.start.isoformat()} — {w.end.isoformat()}"),
                         (_("统计截至"), rec["until"].isoformat()), (_("负责的学生数"), len(rec["rows"]))):
        append_row(ws, [label, value])
    append_row(ws, [])
    bold_header(ws, [_("任务"), _("要求"), _("记录次数"), _("已完成周期"), _("应完成周期"), _("完成率"), _("适用学生")])
    for r in rec["rules"]:
        due, met = rec["totals"]["due"][r["key"]], rec["totals"]["met"][r["key"]]
        append_row(ws, [r["label"], _("%(period)s %(n)d 次", period=str(PERIOD_LABELS[r["period"]]), n=r["times"]),
                        rec["totals"]["counts"][r["kind"]], met, due, met / due if due else None, r["owed"]])
        ws.cell(ws.max_row, 6).number_format = PERCENT
    append_row(ws, [])
    bold_header(ws, [_("任务"), *[str(REVIEW_LABELS[s]) for s in REVIEW_LABELS]])
    for k in DUTY_KINDS:
        append_row(ws, [_kind(k), *[rec["states"].get((k, s), 0) for s in REVIEW_LABELS]])
    append_row(ws, [])
    bold_header(ws, [_("家访确认"), *[str(CONFIRM_LABELS[s]) for s in CONFIRM_LABELS]])
    append_row(ws, [_kind("home_visit"), *[rec["confirms"].get(s, 0) for s in CONFIRM_LABELS]])

    kids = wb.create_sheet(_("学生"))
    headers = [_("学号"), _("姓名"), _("班级"), _("包保责任人"), _("班主任")]
    for r in rec["rules"]:
        headers += [_("%(kind)s次数", kind=r["label"]), _("%(kind)s已完成周期", kind=r["label"]),
                    _("%(kind)s应完成周期", kind=r["label"])]
    bold_header(kids, headers + [_("参加集体活动次数"), _("监护人到场次数")])
    for row in rec["rows"]:
        c = row["child"]
        line = [c.student_no, c.name, c.class_name, _("是") if row["responsible"] else _("否"),
                _("是") if row["class_teacher"] else _("否")]
        for r in rec["rules"]:
            met = row["met"][r["key"]]
            line += [row["counts"][r["kind"]], _("不要求") if met is None else met, 0 if met is None else r["due"]]
        append_row(kids, line + [row["activities"]["child"], row["activities"]["guardian"]])

    recs = wb.create_sheet(_("记录"))
    bold_header(recs, [_("记录编号"), _("时间"), _("种类"), _("班级"), _("学生"), _("照片数"), _("审核状态"),
                       _("村委会确认")])
    for r in rec["records"]:
        append_row(recs, [r["id"], r["occurred_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M"), _kind(r["kind"]),
                          r["class_name"], r["child_name"], r["photos"], str(REVIEW_LABELS[r["review_state"]]),
                          str(CONFIRM_LABELS[r["confirm_state"]]) if r["kind"] == "home_visit" else ""])
    _term_care_sheets(wb, rec)
    return workbook_bytes(wb)


def _term_care_sheets(wb, rec: dict) -> None:
    """The term record's activities held and follow-ups, one sheet each (a follow-up about counselling: no text)."""
    acts = wb.create_sheet(_("集体活动"))
    bold_header(acts, [_("活动编号"), _("时间"), _("活动类型"), _("主题"), _("地点"), _("签到学生"), _("签到监护人"),
                       _("照片数"), _("纸质签到表")])
    for a in rec["activities"]:
        append_row(acts, [a["id"], a["occurred_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                          str(TYPE_LABELS.get(a["type"], a["type"])), a["title"], a["place"], a["children"], a["guardians"],
                          a["photos"], _("是") if a["signin_sheet"] else _("否")])
    fus = wb.create_sheet(_("跟进"))
    bold_header(fus, [_("跟进编号"), _("班级"), _("学生"), _("要做什么"), _("负责人"), _("创建人"), _("完成期限"),
                      _("状态"), _("逾期"), _("结果"), _("关闭时间")])
    for f in rec["follow_ups"]:
        closed = f["closed_at"] and f["status"] != "open"
        append_row(fus, [f["id"], f["class_name"], f["child_name"],
                         _("心理辅导教师跟进（内容保密）") if f["what"] is None else f["what"], f["assignee"], f["made_by"],
                         f["due_on"].isoformat(), str(STATUS_LABELS[f["status"]]), _("是") if f["overdue"] else _("否"),
                         "" if f["status"] == "open" else (_("内容保密") if f["outcome"] is None else f["outcome"]),
                         f["closed_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if closed else ""])
