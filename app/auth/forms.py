from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .passwords import password_problems


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("登录"))


class ChangePasswordForm(FlaskForm):
    old_password = PasswordField(_l("原密码"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_l("新密码"), validators=[
        DataRequired(), Length(min=8, max=256, message=_l("新密码至少 8 位，最多 256 位。"))])
    new_password2 = PasswordField(_l("再输入一次新密码"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("两次输入的新密码不一致。"))])
    submit = SubmitField(_l("修改密码"))

    def validate_new_password(self, field):
        if field.data == self.old_password.data:
            raise ValidationError(_l("新密码不能与原密码相同。"))
        problems = password_problems(field.data, current_user.username)
        if problems:
            raise ValidationError(" ".join(problems))
