"""The audit log's codes in plain Chinese: what was done, to what (the codes stay in the database)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "view": _l("查看"), "list": _l("查看名单"), "view_card": _l("查看卡片"), "view_records": _l("查看记录"),
    "view_plan": _l("查看帮扶计划"), "view_photos": _l("查看照片"), "view_attention": _l("查看重点关注"), "create": _l("新建"), "edit": _l("修改"),
    "update": _l("修改"), "upload": _l("上传"), "import": _l("导入"), "export": _l("导出"), "approve": _l("审核通过"),
    "return": _l("退回"), "confirm": _l("确认"), "dispute": _l("提出异议"), "report": _l("报告"),
    "notice": _l("记录通知"), "close": _l("结案"), "withdraw": _l("撤回"), "reject": _l("驳回"), "submit": _l("上报"),
    "resubmit": _l("重新上报"), "receive": _l("接收"), "add_news": _l("添加动态"), "delete_news": _l("删除动态"),
    "edit_plan": _l("修改帮扶计划"), "edit_duties": _l("修改工作频率"), "edit_categories": _l("修改分类"),
    "login": _l("登录"), "password_reset": _l("重置密码"), "password_changed": _l("修改密码"),
    "sessions_ended": _l("退出所有设备"), "deactivated": _l("停用"), "account_created": _l("创建账号"),
    "account_updated": _l("修改账号"), "account_deactivated": _l("停用账号"), "account_reactivated": _l("恢复账号"),
    "county_updated": _l("修改县信息"), "school_created": _l("创建学校"), "school_updated": _l("修改学校信息"),
}

OBJECTS = {
    "child": _l("儿童档案"), "guardian": _l("监护人"), "record": _l("记录"), "photo": _l("照片"),
    "pairing": _l("结对"), "class_teacher": _l("班主任"), "consent": _l("监护人同意书"), "follow_up": _l("跟进事项"),
    "incident": _l("突发事件"), "activity": _l("集体活动"), "child_proposal": _l("新增儿童申请"), "user": _l("账号"),
    "school": _l("学校"), "county": _l("县"), "roster": _l("花名册"), "monthly_report": _l("月报"),
    "monthly_submission": _l("月报上报"), "term_record": _l("学期记录"), "term_stats": _l("学期统计"),
    "child_archive": _l("儿童档案导出"), "school_review": _l("考核与督查"),
}


def action_label(code: str) -> str:
    """An action in words; an unknown code is shown as it is rather than hidden."""
    return str(ACTIONS.get(code, code))


def object_label(code: str) -> str:
    return str(OBJECTS.get(code, code))
