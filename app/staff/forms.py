from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Length


class AccountForm(FlaskForm):
    """An account's fields; the rules (staff.services.account_problems) check them, for the import too."""

    username = StringField(_l("用户名"), validators=[Length(max=64)])
    name = StringField(_l("姓名"), validators=[Length(max=64)])
    phone = StringField(_l("手机"), validators=[Length(max=32)])
    role = SelectField(_l("角色"), choices=[], validate_choice=False)
    village = SelectField(_l("所在村（村委会成员必填）"), choices=[], validate_choice=False)
    submit = SubmitField(_l("保存"))


class SchoolForm(FlaskForm):
    name = StringField(_l("学校名称"), validators=[Length(max=120)])
    hotline = StringField(_l("学校电话"), validators=[Length(max=40)])
    submit = SubmitField(_l("保存"))


class CountyForm(FlaskForm):
    name = StringField(_l("县（区）名称"), validators=[Length(max=120)])
    bureau_name = StringField(_l("教育局名称"), validators=[Length(max=120)])
    bureau_phone = StringField(_l("教育局值班电话"), validators=[Length(max=40)])
    submit = SubmitField(_l("保存"))
