"""Class teachers (班主任): who is class teacher of which class of a school. A class teacher sees every child of the
class (app.access.children_query) and may own duties (a duty rule's owner)."""
from __future__ import annotations

from sqlalchemy import delete, select

from ..audit import audit
from ..extensions import db
from ..models import Child, ClassTeacher, User
from .services import FileError
from .ordering import class_key


def school_classes(school_id: int) -> list[str]:
    """The class names of the school's children on file and of its class-teacher entries, in order."""
    on_file = select(Child.class_name).where(Child.school_id == school_id, Child.class_name.is_not(None),
                                             Child.left_on.is_(None))
    named = select(ClassTeacher.class_name).where(ClassTeacher.school_id == school_id)
    return sorted(set(db.session.scalars(on_file.distinct())) | set(db.session.scalars(named.distinct())), key=class_key)


def class_teachers(school_id: int) -> dict[str, list[User]]:
    """{class name: its class teachers, by name}."""
    rows = db.session.execute(select(ClassTeacher.class_name, User).join(User, User.id == ClassTeacher.teacher_id)
                              .where(ClassTeacher.school_id == school_id).order_by(User.name, User.id)).all()
    out: dict[str, list[User]] = {}
    for name, user in rows:
        out.setdefault(name, []).append(user)
    return out


def set_class_teachers(school_id: int, class_name: str, teacher_ids: list[int], by: User | None) -> None:
    """Make the class teachers of this class exactly these teachers of the school."""
    from flask_babel import gettext as _

    wanted = set(teacher_ids)
    ok = set(db.session.scalars(select(User.id).where(User.id.in_(wanted), User.role == "teacher",
                                                      User.school_id == school_id))) if wanted else set()
    if ok != wanted:
        raise FileError(_("班主任只能是本校教师。"))
    have = set(db.session.scalars(select(ClassTeacher.teacher_id).where(ClassTeacher.school_id == school_id,
                                                                        ClassTeacher.class_name == class_name)))
    if have - wanted:
        db.session.execute(delete(ClassTeacher).where(ClassTeacher.school_id == school_id,
                                                      ClassTeacher.class_name == class_name,
                                                      ClassTeacher.teacher_id.in_(have - wanted)))
    db.session.add_all(ClassTeacher(school_id=school_id, class_name=class_name, teacher_id=t) for t in wanted - have)
    db.session.flush()
    audit("update", "class_teacher", school_id, user=by)


def add_class_teacher(school_id: int, class_name: str, teacher_id: int) -> bool:
    """Add one class teacher to a class (the roster import); False when they already were."""
    if db.session.scalar(select(ClassTeacher.id).where(ClassTeacher.school_id == school_id,
                                                       ClassTeacher.class_name == class_name,
                                                       ClassTeacher.teacher_id == teacher_id)):
        return False
    db.session.add(ClassTeacher(school_id=school_id, class_name=class_name, teacher_id=teacher_id))
    db.session.flush()
    return True
