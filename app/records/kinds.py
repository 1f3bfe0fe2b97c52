"""The record kinds and their fields: one definition for validation, forms, the offline app and OpenAPI."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from ..access import CAPABILITIES
from ..models import CONFIDENTIAL_KINDS

RATINGS = [("good", _l("良好")), ("fair", _l("一般")), ("concern", _l("需关注"))]


@dataclass(frozen=True)
class Field:
    name: str
    label: object
    type: str  # text | longtext | bool | int | enum | code (6 digits) | signature (sha256 of a signature upload) | date
    #          | attendance (a group activity's [{child_id, child, guardian}], app/activities/services.py)
    required: bool = False
    choices: list = field(default_factory=list)
    min: int | None = None
    max: int | None = None
    help: object = None
    default: str | None = None  # stored when the field is left empty
    length: int | None = None  # a shorter limit than the type's, where the value goes into a file column

    @property
    def max_length(self) -> int | None:
        return self.length or {"text": 200, "longtext": 4000, "code": 6}.get(self.type)


@dataclass(frozen=True)
class Kind:
    name: str
    label: object
    fields: list[Field]
    # Roles that may write this kind (who may read it is app/access.py's).
    writers: tuple[str, ...] = ("teacher", "principal")
    # The phone's view that fills it, when not the generic record form (#/<form>/<child>).
    form: str | None = None
    # A group record (an activity): about many children (its attendance field), not one child_id.
    group: bool = False

    @property
    def confidential(self) -> bool:
        """Its content is for counsellors only (app/access.py may_read_content)."""
        return self.name in CONFIDENTIAL_KINDS


def _rated(area: str, label) -> list[Field]:
    return [
        Field(f"{area}_rating", label, "enum", required=True, choices=RATINGS),
        Field(f"{area}_note", _l("%(area)s情况说明", area=label), "longtext"),
    ]


def _committee_evidence(code_help) -> list[Field]:
    """The village committee's acknowledgement on the spot (models.CONFIRMED_KINDS): its code, or a signature."""
    return [
        Field("confirm_code", _l("村干部确认口令（6 位数字，可不填）"), "code", help=code_help),
        Field("signature", _l("监护人或村干部签名"), "signature"),
        Field("signed_by", _l("签名人"), "text"),
    ]


HOME_VISIT = Kind("home_visit", _l("家访"), [
    Field("purpose", _l("家访目的（事先确定）"), "longtext", required=True),
    Field("guardian_present", _l("监护人在场"), "bool"),
    Field("met_person", _l("见到的人"), "text", required=True),
    Field("met_relationship", _l("与孩子的关系"), "text"),
    Field("told_guardian", _l("向监护人介绍孩子在校情况"), "longtext", required=True),
    *_rated("study", _l("学习")),
    *_rated("life", _l("日常生活")),
    *_rated("psychology", _l("心理")),
    *_rated("safety", _l("安全")),
    Field("guardian_concerns", _l("监护人反映的问题"), "longtext"),
    Field("follow_up", _l("商定的后续措施"), "longtext"),
    Field("next_visit_plan", _l("下次家访计划"), "text"),
    # Committee confirmation on the spot (step 4): the code shown on the member's phone, or a signature.
    *_committee_evidence(_l("请在场的村干部打开家访通“确认口令”，把显示的 6 位数字填在这里；没有网络也可以。")),
])

TALK = Kind("talk", _l("谈心"), [
    Field("topic", _l("谈心主题（事先确定）"), "text", required=True),
    Field("mood", _l("孩子情绪"), "enum", required=True, choices=[
        ("happy", _l("开心")), ("calm", _l("平稳")), ("low", _l("低落")), ("anxious", _l("焦虑")), ("upset", _l("难过/激动")),
    ]),
    Field("summary", _l("谈话内容"), "longtext", required=True),
    Field("follow_up", _l("后续跟进"), "longtext"),
])

COUNTERPARTS = [("father", _l("父亲")), ("mother", _l("母亲")), ("both_parents", _l("父母双方")),
                ("guardian", _l("委托监护人")), ("relative", _l("其他亲属"))]
DIRECTIONS = [("teacher_to_family", _l("教师联系家长或监护人")), ("child_to_parents", _l("亲情电话（教师帮助孩子联系父母）")),
              ("family_to_teacher", _l("家长或监护人联系教师（师长热线）"))]
CHANNELS = [("phone", _l("电话")), ("video", _l("视频通话")), ("wechat", _l("微信/语音留言")), ("letter", _l("书信")),
            ("in_person", _l("当面"))]

# Every contact with the family: calls either way, the child's family call (亲情电话/亲情视频), messages, letters, and
# meeting the guardian (counterpart guardian, channel in person: no kind of its own).
CONTACT = Kind("contact", _l("家庭联系"), [
    Field("counterpart", _l("联系的人"), "enum", required=True, choices=COUNTERPARTS),
    Field("direction", _l("谁联系谁"), "enum", required=True, choices=DIRECTIONS),
    Field("channel", _l("联系方式"), "enum", required=True, choices=CHANNELS),
    Field("duration_min", _l("时长（分钟）"), "int", min=0, max=600, help=_l("书信和留言可不填。")),
    Field("summary", _l("联系内容"), "longtext", required=True),
])

HANDOVER = Kind("handover", _l("假期交接"), [
    Field("caretaker", _l("假期里谁照看孩子"), "text", required=True),
    Field("place", _l("孩子假期住在哪里"), "text", required=True),
    Field("reach", _l("假期里怎样联系照看人"), "text", required=True, help=_l("电话或微信，以及方便联系的时间。")),
    Field("safety", _l("安全要点（防溺水、交通、用火用电等）"), "longtext", required=True),
    Field("guardian_acknowledged", _l("监护人已知晓并确认"), "bool"),
    Field("guardian_name", _l("确认的监护人"), "text"),
    # The village committee acknowledges the handover as it confirms a visit: code, signature, or its queue.
    *_committee_evidence(_l("请村干部打开家访通“确认口令”，把显示的 6 位数字填在这里；也可以之后在村委会的待确认列表里确认。")),
])

RISK_LEVELS = [("none", _l("无")), ("low", _l("低")), ("medium", _l("中")), ("high", _l("高"))]

COUNSELLING = Kind("counselling", _l("心理辅导"), [
    Field("topic", _l("辅导主题"), "text", required=True),
    Field("summary", _l("辅导记录"), "longtext", required=True),
    Field("plan", _l("后续计划"), "longtext"),
    # "high" alerts the principals at once, without any content (app/records/counselling.py).
    Field("risk", _l("风险等级"), "enum", choices=RISK_LEVELS, default="none",
          help=_l("选“高”会立即提醒校长（提醒中不含记录内容）。")),
], writers=("counsellor",))


def _survey_fields() -> list[Field]:
    """The file's fields a start-of-term survey proposes, each with "base.<name>": the value the phone showed."""
    from ..children.forms import AWAY_CHOICES

    own = [Field("parents_away", _l("父母外出情况（是否仍是留守儿童）"), "enum", choices=AWAY_CHOICES)]
    for role, who in (("father", _l("父亲")), ("mother", _l("母亲"))):
        own += [Field(f"{role}.name", _l("%(who)s姓名", who=who), "text", length=64),
                Field(f"{role}.work_place", _l("%(who)s务工地", who=who), "text", length=120),
                Field(f"{role}.employer", _l("%(who)s工作单位", who=who), "text", length=120),
                Field(f"{role}.phone", _l("%(who)s电话", who=who), "text", length=32)]
    own += [Field("guardian.name", _l("委托监护人姓名"), "text", length=64),
            Field("guardian.relationship_", _l("监护人与孩子的关系"), "text", length=32),
            Field("guardian.phone", _l("监护人电话"), "text", length=32),
            Field("living_situation", _l("生活状况"), "longtext"),
            Field("health", _l("身体状况"), "longtext"),
            Field("study", _l("学习情况"), "longtext"),
            Field("psychology", _l("思想、心理状况"), "longtext"),
            Field("special_needs", _l("个性化需求"), "longtext")]
    seen = [Field(f"base.{f.name}", _l("%(label)s（摸底时档案里的值）", label=f.label), f.type, choices=f.choices,
                  length=f.length) for f in own]
    return own + seen


# 每学期初摸底: what the teacher found, field by field, against what the file said on the phone; the record's first photo
# is the child's new photo. Turned into proposals the principal applies or rejects (app/surveys/services.py).
SURVEY = Kind("survey", _l("学期初摸底"), _survey_fields(), writers=CAPABILITIES["survey_children"], form="survey")

ACTIVITY_TYPES = [("parents_meeting", _l("家长会")), ("guardian_training", _l("临时监护人培训")),
                  ("class_meeting", _l("主题班会")), ("lecture", _l("讲座")), ("festival", _l("节日活动")),
                  ("letter", _l("书信/给家长的一封信")), ("discussion", _l("留守儿童座谈会"))]
GUARDIAN_TYPES = ("parents_meeting", "guardian_training")  # attendance ticks the guardian too
YES_NO = [("yes", _l("是")), ("no", _l("否"))]

ACTIVITY = Kind("activity", _l("集体活动"), [
    Field("type", _l("活动类型"), "enum", required=True, choices=ACTIVITY_TYPES),
    Field("title", _l("活动名称"), "text", required=True),
    Field("place", _l("地点"), "text"),
    Field("summary", _l("活动内容"), "longtext", required=True),
    Field("attendance", _l("出席"), "attendance",
          help=_l("勾选到场的学生；家长会和监护人培训也勾选到场的监护人。也可以只拍纸质签到表。")),
    Field("signin_sheet", _l("照片中有纸质签到表"), "bool"),
    # The parents' opinion book of a meeting (家长意见记录簿): what they asked for, in their words.
    Field("opinions", _l("家长意见记录"), "longtext",
          help=_l("家长会、培训时家长和监护人提出的意见和建议；也可以拍下纸质意见簿。")),
], group=True)
# What a duty rule may filter an activity's attendance records on: the type, and who of the family came.
ATTENDANCE_FIELDS = [ACTIVITY.fields[0], Field("child", _l("学生到场"), "enum", choices=YES_NO),
                     Field("guardian", _l("监护人到场"), "enum", choices=YES_NO)]

# A follow-up agreed for a child (step 13): made like any record (offline too), then kept in app/followups.
FOLLOW_UP = Kind("follow_up", _l("跟进事项"), [
    Field("what", _l("要做什么"), "longtext", required=True,
          help=_l("写清要做的事；不要写心理辅导的内容。")),
    Field("due_on", _l("完成期限"), "date", required=True),
    Field("source_id", _l("跟进的记录编号（可不填）"), "int", min=1, max=2**31 - 1),
], writers=("teacher", "principal", "counsellor"))

KINDS: dict[str, Kind] = {k.name: k for k in (HOME_VISIT, TALK, CONTACT, HANDOVER, COUNSELLING, SURVEY, ACTIVITY,
                                              FOLLOW_UP)}



def _new_child_kind() -> Kind:
    from ..children.forms import AWAY_CHOICES, SEX_CHOICES

    return Kind("new_child", _l("新发现的留守儿童"), [
        Field("name", _l("姓名"), "text", required=True, length=64),
        Field("sex", _l("性别"), "enum", required=True, choices=SEX_CHOICES),
        Field("class_name", _l("班级"), "text", length=32),
        Field("village_id", _l("村"), "int", min=1, max=2**31 - 1),
        Field("parents_away", _l("父母外出情况"), "enum", required=True, choices=AWAY_CHOICES),
        Field("guardian_name", _l("监护人姓名"), "text", required=True, length=64),
        Field("guardian_relationship", _l("监护人与孩子的关系"), "text", length=32),
        Field("guardian_phone", _l("监护人电话"), "text", length=32),
        Field("consented_on", _l("监护人同意建档的日期"), "text", required=True, length=10, help=_l("例如 2026-09-01")),
        Field("notice_version", _l("告知书版本"), "text", required=True, length=32),
        Field("note", _l("说明"), "longtext"),
    ], writers=SURVEY.writers, form="survey-new")


# A left-behind child found in the field, proposed as a new file: sent like a record (outbox, idempotent id) but with
# no child yet, so it is no Record (app/surveys/services.py propose_child) and not in KINDS.
NEW_CHILD = _new_child_kind()
# What the phone may send to /api/v1/records, and what /api/v1/kinds publishes.
PHONE_KINDS: dict[str, Kind] = {**KINDS, NEW_CHILD.name: NEW_CHILD}


# Phones from before the contact kind may still hold `parent_call` records in their outbox when the server updates
# (offline for days): they are read as contacts by phone, so none is lost. The same mapping as migration 0010a.
OLD_PARENTS = {"father": "father", "mother": "mother", "both": "both_parents"}
OLD_DIRECTIONS = {"teacher_to_parent": "teacher_to_family", "child_to_parent": "child_to_parents"}


def from_old_phone(item):
    """A record as an older phone sent it, in today's shape: a `parent_call` becomes a `contact` by phone."""
    if not isinstance(item, dict) or item.get("kind") != "parent_call":
        return item
    fields = item.get("fields")
    if isinstance(fields, dict):
        fields = dict(fields)
        if "parent" in fields:
            parent = fields.pop("parent")
            fields["counterpart"] = OLD_PARENTS.get(parent, parent)  # an unknown value is rejected by clean_fields
        if "direction" in fields:
            fields["direction"] = OLD_DIRECTIONS.get(fields["direction"], fields["direction"])
        fields.setdefault("channel", "phone")
    return {**item, "kind": CONTACT.name, "fields": fields}


def kinds_for_writer(role: str) -> list[Kind]:
    """The kinds a role may write on the generic record form about one child (a kind with a view of its own is the
    phone's; a group activity is started from the app's home, not a child)."""
    return [k for k in KINDS.values() if role in k.writers and not k.form and not k.group]


def clean_fields(kind: Kind, data) -> tuple[dict, dict]:
    """Validate a record's fields; return (clean values, {field: reason})."""
    from flask_babel import gettext as _

    from ..web import has_control_chars

    if not isinstance(data, dict):
        return {}, {"fields": _("fields 必须是对象。")}
    known = {f.name: f for f in kind.fields}
    errors = {name: _("未知字段。") for name in data if name not in known}
    clean = {}
    for f in kind.fields:
        value = data.get(f.name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if f.required:
                errors[f.name] = _("必填。")
            elif f.default is not None:
                clean[f.name] = f.default
            continue
        if f.type in ("text", "longtext"):
            if not isinstance(value, str) or has_control_chars(value):
                errors[f.name] = _("应为文字。")
            elif len(value) > f.max_length:
                errors[f.name] = _("太长（最多 %(n)d 字）。", n=f.max_length)
            else:
                clean[f.name] = value
        elif f.type == "bool":
            if isinstance(value, bool):
                clean[f.name] = value
            elif value in ("true", "1", "on", "y"):
                clean[f.name] = True
            elif value in ("false", "0", "off", "n"):
                clean[f.name] = False
            else:
                errors[f.name] = _("应为是或否。")
        elif f.type == "int":
            try:
                n = int(value)
                if isinstance(value, float) and value != n or isinstance(value, bool):
                    raise ValueError
            except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
                errors[f.name] = _("应为整数。")
                continue
            if (f.min is not None and n < f.min) or (f.max is not None and n > f.max):
                errors[f.name] = _("应在 %(a)d 到 %(b)d 之间。", a=f.min, b=f.max)
            else:
                clean[f.name] = n
        elif f.type == "code":
            if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) != 6:
                errors[f.name] = _("口令应为 6 位数字。")
            else:
                clean[f.name] = value
        elif f.type == "signature":
            if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                errors[f.name] = _("签名应为已上传签名图片的 SHA-256。")
            else:
                clean[f.name] = value
        elif f.type == "date":
            day = _iso_date(value)
            if day is None:
                errors[f.name] = _("日期格式应为 2026-12-01。")
            else:
                clean[f.name] = day.isoformat()
        elif f.type == "enum":
            if value not in [c for c, _label in f.choices]:
                errors[f.name] = _("不是可选的值。")
            else:
                clean[f.name] = value
    return clean, errors


def _iso_date(value):
    """A date written YYYY-MM-DD in a sensible range, or None."""
    from datetime import date

    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def kinds_json() -> list[dict]:
    """The kinds and their fields for the offline app (labels in the current language), each with the roles that may
    write it: the phone offers a kind only to those, by the rule the server's validation applies."""
    return [
        {
            "name": k.name, "label": str(k.label), "writers": list(k.writers), **({"form": k.form} if k.form else {}),
            "group": k.group,
            "fields": [
                {"name": f.name, "label": str(f.label), "type": f.type, "required": f.required,
                 "choices": [{"value": v, "label": str(lbl)} for v, lbl in f.choices],
                 **({"min": f.min, "max": f.max} if f.type == "int" else {}),
                 **({"max_length": f.max_length} if f.max_length else {}),
                 **({"help": str(f.help)} if f.help else {}),
                 **({"default": f.default} if f.default is not None else {})}
                for f in k.fields
            ],
        }
        for k in PHONE_KINDS.values()
    ]
