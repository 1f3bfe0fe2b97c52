"""Forms for a child's file, guardians, consent and pairings."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..models.people import LEAVE_REASONS, PARENTS_AWAY, SEXES

PHONE = Regexp(r"^[0-9+\- ]{5,20}$", message=_l("电话号码格式不正确。"))

SEX_CHOICES = [(code, _l(word)) for code, word in SEXES.items()]
AWAY_CHOICES = [(code, _l(word)) for code, word in PARENTS_AWAY.items()]
LEAVE_CHOICES = [("", "—")] + [(code, _l(word)) for code, word in LEAVE_REASONS.items()]
GUARDIAN_ROLE_CHOICES = [("guardian", _l("委托监护人")), ("father", _l("父亲")), ("mother", _l("母亲"))]


class ChildForm(FlaskForm):
    student_no = StringField(_l("学号"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=64)])
    sex = SelectField(_l("性别"), choices=SEX_CHOICES)
    birth_date = DateField(_l("出生日期"), validators=[Optional()])
    grade = StringField(_l("年级"), validators=[Optional(), Length(max=16)])
    class_name = StringField(_l("班级"), validators=[Optional(), Length(max=32)])
    boarding = BooleanField(_l("寄宿生"))
    village_id = SelectField(_l("所在村"), coerce=int)
    address = StringField(_l("现住址"), validators=[Optional(), Length(max=200)])
    parents_away = SelectField(_l("外出情况"), choices=AWAY_CHOICES)
    personality = TextAreaField(_l("性格"), validators=[Optional(), Length(max=2000)])
    interests = TextAreaField(_l("兴趣、特长"), validators=[Optional(), Length(max=2000)])
    health = TextAreaField(_l("身体状况"), validators=[Optional(), Length(max=2000)])
    study = TextAreaField(_l("学习情况"), validators=[Optional(), Length(max=2000)])
    psychology = TextAreaField(_l("思想、心理状况"), validators=[Optional(), Length(max=2000)])
    special_needs = TextAreaField(_l("个性化要求"), validators=[Optional(), Length(max=2000)])
    living_situation = TextAreaField(_l("生活状况"), validators=[Optional(), Length(max=2000)])
    surveyed_on = DateField(_l("本学期摸底日期"), validators=[Optional()])
    left_on = DateField(_l("离校日期"), validators=[Optional()])
    leave_reason = SelectField(_l("离校原因"), choices=LEAVE_CHOICES, validators=[Optional()])


class GuardianFields(FlaskForm):
    role = SelectField(_l("身份"), choices=GUARDIAN_ROLE_CHOICES)
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=64)])
    relationship_ = StringField(_l("与孩子关系"), validators=[Optional(), Length(max=32)])
    phone = StringField(_l("电话"), validators=[Optional(), PHONE])
    age = IntegerField(_l("年龄"), validators=[Optional(), NumberRange(min=14, max=120)])
    health = StringField(_l("健康状况"), validators=[Optional(), Length(max=120)])
    occupation = StringField(_l("职业"), validators=[Optional(), Length(max=64)])
    work_place = StringField(_l("务工地"), validators=[Optional(), Length(max=120)])
    employer = StringField(_l("工作单位"), validators=[Optional(), Length(max=120)])
    employer_address = StringField(_l("单位地址"), validators=[Optional(), Length(max=200)])
    employer_phone = StringField(_l("单位电话"), validators=[Optional(), PHONE])
    address = StringField(_l("住址"), validators=[Optional(), Length(max=200)])
    # Not a column: the upload goes through the photo pipeline and the file keeps its hash (Guardian.photo_sha256).
    photo = FileField(_l("登记照片"))


GuardianForm = GuardianFields


class NewChildForm(ChildForm):
    """A new file names the consenting guardian and the consent itself."""

    g_role = SelectField(_l("同意人身份"), choices=GUARDIAN_ROLE_CHOICES)
    g_name = StringField(_l("同意人姓名"), validators=[DataRequired(), Length(max=64)])
    g_relationship = StringField(_l("与孩子关系"), validators=[Optional(), Length(max=32)])
    g_phone = StringField(_l("同意人电话"), validators=[Optional(), PHONE])
    consented_on = DateField(_l("同意日期"), validators=[DataRequired()])
    notice_version = StringField(_l("告知书版本"), validators=[DataRequired(), Length(max=32)], default="2026-1")


class ConsentForm(FlaskForm):
    guardian_id = SelectField(_l("同意人"), coerce=int)
    consented_on = DateField(_l("同意日期"), validators=[DataRequired()])
    notice_version = StringField(_l("告知书版本"), validators=[DataRequired(), Length(max=32)], default="2026-1")


class PairingForm(FlaskForm):
    teacher_ids = SelectMultipleField(_l("结对教师"), coerce=int)
    responsible_id = SelectField(_l("包保责任人"), coerce=int)


class ImportForm(FlaskForm):
    file = FileField(_l("花名册文件（.xlsx 或 .csv）"), validators=[FileRequired()])


class LeaveForm(FlaskForm):
    """Leaving needs a date and a reason."""

    left_on = DateField(_l("离校日期"), validators=[DataRequired()])
    leave_reason = SelectField(_l("离校原因"), choices=LEAVE_CHOICES[1:], validators=[DataRequired()])
