"""How review and confirmation states, methods and steps are named on pages and in exports."""
from flask_babel import lazy_gettext as _l

REVIEW_LABELS = {"received": _l("待审核"), "approved": _l("已通过"), "returned": _l("已退回"), "corrected": _l("已更正")}
CONFIRM_LABELS = {"none": _l("村委会未确认"), "signed": _l("只有签名"), "confirmed": _l("村委会已确认"),
                  "disputed": _l("村委会有异议")}
METHOD_LABELS = {"queue": _l("在待确认列表中"), "code": _l("现场口令"), "signature": _l("现场签名")}
OUTCOME_LABELS = {"confirmed": _l("确认"), "disputed": _l("有异议"), "signed": _l("签名"), "invalid": _l("口令无效"),
                  "replayed": _l("口令重复使用"), "locked": _l("口令输错太多，未核对")}
ACTION_LABELS = {"approve": _l("通过"), "return": _l("退回"), "correct": _l("已更正")}
