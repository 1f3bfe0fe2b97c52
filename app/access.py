"""Who may see what: the one place where queries are scoped by the caller and roles are checked.

- teacher: only the children they are paired with, and every child of the classes they are class teacher (班主任) of;
- committee: only the children of their own village;
- principal, counsellor: every child of their school;
- admin: manages accounts and villages of their school, not children's files;
- records follow the children: a teacher sees the records of their paired children and their own records,
  a committee member only the home visits in their village; that a counselling session took place (date, child,
  counsellor) only counsellors and the principal;
- a record's content (its fields and photos) is read by whoever sees the record, except counselling notes: only the
  school's counsellors read those, and never in print (may_read_content);
- photos are seen by their uploader and by whoever may read the content of a record that lists them;
- incidents: the school's for principal and counsellor; a teacher the ones they reported or about their children;
- bureau (county education bureau staff): aggregates of the schools of their own county only — never a child, a
  record, a photo or an export of a school (those answer 404 for them as for anyone outside the school);
- bureau_admin: onboards the county's schools and their principals and admins; admin: that school's staff accounts;
- nobody sees another school. Unknown or forbidden ids answer 404, so existence is not revealed.

CAPABILITIES is the one table of which roles may do what; views check it with `requires`, code with `can`.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, and_, exists, false, or_, select

from .extensions import db
from .models import ACTIVITY_KIND, Activity, ActivityPhoto
from .models import (CONFIDENTIAL_KINDS, CONFIRMED_KINDS, COUNTY_ROLES, Child, ClassTeacher, Confirmation, Guardian,
                     Incident, MonthlySubmission, NewsItem, NewsPhoto, Pairing, Photo, Record, RecordPhoto, School, User)

CAPABILITIES: dict[str, tuple[str, ...]] = {
    "read_children": ("teacher", "committee", "principal", "counsellor"),  # lists, files, cards, timelines, roster
    "see_whole_school": ("principal", "counsellor"),  # every child and record of the school
    "list_children_at_home": ("teacher", "committee"),  # the home page lists their (few) children
    "see_counselling": ("counsellor", "principal"),  # that a session took place: its date, child and counsellor
    "read_counselling": ("counsellor",),  # what was said: 心理咨询资料予以绝对保密, the principal included
    "manage_children": ("principal",),  # files, guardians, consent, pairings, roster import
    "manage_villages": ("principal", "admin"),
    "write_records": ("teacher", "principal", "counsellor"),  # and see the ones returned to them
    "keep_duties": ("teacher",),  # has a due list
    "plan_duties": ("principal",),  # duty rules, terms, the dashboard
    "review_records": ("principal",),  # and sees every record's flags and reviewers' comments
    "confirm_visits": ("committee",),  # and sees the confirmation history of its village's visits
    "read_term_records": ("teacher", "principal"),
    "read_monthly": ("principal", "counsellor"),
    "report_incidents": ("teacher", "principal", "counsellor"),
    "see_all_incidents": ("principal", "counsellor"),  # and close any of them
    "read_audit": ("principal",),
    # The county tier (step 11).
    "see_county": ("bureau", "bureau_admin"),  # the bureau's pages: aggregates of the county's schools, no child
    "manage_schools": ("bureau_admin",),  # onboards schools, their principals and admins
    "manage_staff": ("admin",),  # that school's staff accounts: create, deactivate, reset, import
    "submit_monthly": ("principal",),  # prepares and submits the month's report to the bureau
    "receive_monthly": ("bureau",),  # marks a school's report received or returns it
    "ack_emergencies": ("bureau",),  # acknowledges an emergency's bureau notice
    # The bureau's appraisals and special inspections of its schools (rows 61, 62): the bureau records them
    # (see_county); of a school only the principal reads them, as the one answerable for the school's work.
    "read_reviews": ("principal",),
    # The child's file kept current (step 12).
    "survey_children": ("teacher",),  # the start-of-term survey of their (class's) children
    "apply_surveys": ("principal",),  # applies or rejects each proposed change to a file
    "read_term_stats": ("principal",),  # 每学期留守儿童统计表
    # Group activities (step 13): lists and pages; recording one is write_records (through the records API).
    "read_activities": ("teacher", "principal", "counsellor"),
    "manage_accounts": ("admin", "bureau_admin"),  # the account pages both use (accounts_query scopes them)
    # Care beyond the duties (step 13): categories with a designated contact, and each child's plan (一人一策).
    "read_care": ("teacher", "principal", "counsellor"),  # a child's categories and plan; not the village's business
    "manage_categories": ("principal",),  # the school's categories, and which children are in them
    # Care beyond the duties (step 13).
    "see_attention": ("teacher", "principal", "counsellor"),  # the needs-attention list of the children they see
    "assign_follow_ups": ("principal",),  # gives any follow-up of the school to another staff member, moves its date
    # Data on the phone (step 15).
    "manage_phones": ("principal",),  # sees the school's staff's phones and reports one lost for a teacher
    "assign_held_records": ("principal",),  # decides records held because their author no longer had the child
}


def can(user: User, capability: str) -> bool:
    """True when `user`'s role has this capability (see CAPABILITIES)."""
    return user.role in CAPABILITIES[capability]


def capabilities_of(user: User) -> list[str]:
    """Every capability of `user`'s role, for the phone (it shows controls by these, never by a rule of its own)."""
    return sorted(c for c, roles in CAPABILITIES.items() if user.role in roles)


def schools_query(user: User) -> Select:
    """A SELECT of the schools `user` may see: the county's for bureau staff, their own for everyone else."""
    if can(user, "see_county"):
        return select(School).where(School.county_id == user.county_id).where(School.county_id.is_not(None))
    return select(School).where(School.id == user.school_id)


def get_school(user: User, school_id: int) -> School:
    """The school with this id if `user` may see it; 404 otherwise."""
    school = db.session.scalar(schools_query(user).where(School.id == school_id))
    if school is None:
        abort(404)
    return school


def school_reviews_query(user: User) -> Select:
    """A SELECT of the bureau's appraisals and inspections `user` may read: of the schools `user` may see."""
    from .models import SchoolReview

    return select(SchoolReview).where(SchoolReview.school_id.in_(schools_query(user).with_only_columns(School.id)))


# Who gives which roles: a school's admin its staff; the bureau administrator a school's heads and the bureau's staff.
SCHOOL_STAFF_ROLES = ("teacher", "counsellor", "committee")
SCHOOL_HEAD_ROLES = ("principal", "admin")


def account_roles(user: User, school: School | None) -> tuple[str, ...]:
    """The roles `user` may give an account of `school` (None: of the user's county bureau); () when none."""
    if user.role == "admin" and school is not None and school.id == user.school_id:
        return SCHOOL_STAFF_ROLES
    if user.role == "bureau_admin" and user.county_id is not None:
        if school is None:
            return COUNTY_ROLES
        if school.county_id == user.county_id:
            return SCHOOL_HEAD_ROLES
    return ()


def accounts_query(user: User) -> Select:
    """A SELECT of the accounts `user` manages, never their own (so nobody changes their own role or locks
    themselves out)."""
    if user.role == "admin":
        q = select(User).where(User.school_id == user.school_id, User.role.in_(SCHOOL_STAFF_ROLES))
    elif user.role == "bureau_admin" and user.county_id is not None:
        county_schools = select(School.id).where(School.county_id == user.county_id)
        q = select(User).where(or_(
            and_(User.school_id.in_(county_schools), User.role.in_(SCHOOL_HEAD_ROLES)),
            and_(User.county_id == user.county_id, User.role.in_(COUNTY_ROLES)),
        ))
    else:
        return select(User).where(false())
    return q.where(User.id != user.id)


def get_account(user: User, account_id: int) -> User:
    """The account with this id if `user` manages it; 404 otherwise."""
    account = db.session.scalar(accounts_query(user).where(User.id == account_id))
    if account is None:
        abort(404)
    return account


def children_query(user: User) -> Select:
    """A SELECT of the children `user` may see; every child list starts here."""
    q = select(Child).where(Child.school_id == user.school_id)
    if can(user, "see_whole_school"):
        return q
    if user.role == "teacher":
        paired = exists().where(Pairing.child_id == Child.id, Pairing.teacher_id == user.id)
        return q.where(paired | Child.class_name.in_(taught_classes(user)))
    if user.role == "committee" and user.village_id is not None:
        return q.where(Child.village_id == user.village_id)
    return q.where(false())


def taught_classes(user: User) -> Select:
    """The names of the classes of `user`'s school that `user` is class teacher of (a subquery)."""
    return select(ClassTeacher.class_name).where(ClassTeacher.teacher_id == user.id,
                                                 ClassTeacher.school_id == user.school_id)


def child_ids_query(user: User) -> Select:
    """The ids of the children `user` may see, for use in IN (...) subqueries."""
    return children_query(user).with_only_columns(Child.id)


def get_child(user: User, child_id: int) -> Child:
    """The child with this id if `user` may see it; 404 otherwise."""
    child = db.session.scalar(children_query(user).where(Child.id == child_id))
    if child is None:
        abort(404)
    return child


def can_see_child(user: User, child_id: int) -> bool:
    """True when `user` may see the child with this id."""
    return db.session.scalar(child_ids_query(user).where(Child.id == child_id)) is not None


def records_query(user: User) -> Select:
    """A SELECT of the records `user` may see; every record list, page and export starts here."""
    q = select(Record).where(Record.school_id == user.school_id)
    if not can(user, "see_counselling"):
        q = q.where(Record.kind.not_in(CONFIDENTIAL_KINDS))
    if can(user, "see_whole_school"):
        return q
    if user.role == "teacher":
        return q.where((Record.author_id == user.id) | Record.child_id.in_(child_ids_query(user)))
    if user.role == "committee":
        # Minimum necessary: the village confirms visits and holiday handovers; talks and calls are not its business.
        return q.where(Record.kind.in_(CONFIRMED_KINDS), Record.child_id.in_(child_ids_query(user)))
    return q.where(false())


def get_record(user: User, record_id: int) -> Record:
    """The record with this id if `user` may see it; 404 otherwise."""
    record = db.session.scalar(records_query(user).where(Record.id == record_id))
    if record is None:
        abort(404)
    return record


def may_read_content(user: User, record: Record, printed: bool = False) -> bool:
    """Whether `user`, who sees `record` (through records_query), may read its fields and see its photos.

    Counselling notes only for the school's counsellors, and never on a printed page (the archive is passed around):
    everyone else who sees such a record sees only that a session took place."""
    if record.kind not in CONFIDENTIAL_KINDS:
        return True
    return not printed and can(user, "read_counselling")


def content_query(user: User) -> Select:
    """records_query narrowed to the records whose content `user` may read (may_read_content, as SQL)."""
    q = records_query(user)
    return q if can(user, "read_counselling") else q.where(Record.kind.not_in(CONFIDENTIAL_KINDS))


def activities_query(user: User) -> Select:
    """The group activities `user` may see: the school's for principal and counsellor; a teacher their own and those
    their children took part in; nobody else. (Which children took part: only those `user` may see are named.)"""
    q = select(Activity).where(Activity.school_id == user.school_id)
    if can(user, "see_whole_school"):
        return q
    if user.role == "teacher":
        joined = select(Record.activity_id).where(Record.kind == ACTIVITY_KIND, Record.school_id == user.school_id,
                                                  Record.child_id.in_(child_ids_query(user)))
        return q.where((Activity.author_id == user.id) | Activity.id.in_(joined))
    return q.where(false())


def get_activity(user: User, activity_id: int):
    """The activity with this id if `user` may see it; 404 otherwise."""
    activity = db.session.scalar(activities_query(user).where(Activity.id == activity_id))
    if activity is None:
        abort(404)
    return activity


def visible_photo(user: User, sha256: str) -> Photo | None:
    """A photo with these bytes that `user` uploaded, or may see on a child's file they may read or through a record
    whose content they may read; None otherwise (a counselling session's photos are its content)."""
    own = db.session.scalar(select(Photo).where(Photo.sha256 == sha256, Photo.uploader_id == user.id))
    if own is not None:
        return own
    seen = content_query(user).with_only_columns(Record.id).subquery()
    listed = db.session.scalar(
        select(Photo)
        .join(RecordPhoto, RecordPhoto.photo_id == Photo.id)
        .where(Photo.sha256 == sha256, RecordPhoto.record_id.in_(select(seen.c.id)))
        .limit(1)
    )
    if listed is not None:
        return listed
    # A group activity's photos: whoever sees the activity.
    in_activity = db.session.scalar(
        select(Photo).join(ActivityPhoto, ActivityPhoto.photo_id == Photo.id)
        .where(Photo.sha256 == sha256, ActivityPhoto.activity_id.in_(activities_query(user).with_only_columns(Activity.id)))
        .limit(1))
    if in_activity is not None:
        return in_activity
    # A signature is not one of the record's photos but the evidence of its confirmation.
    signature = db.session.scalar(
        select(Photo)
        .join(Confirmation, Confirmation.photo_id == Photo.id)
        .where(Photo.sha256 == sha256, Confirmation.record_id.in_(select(seen.c.id)))
        .limit(1)
    )
    if signature is not None:
        return signature
    # The child's photo and the parents' and guardian's registration photos: whoever may read the file. Asked last,
    # so that the many views of records' photos cost no more than before.
    readable = select(child_ids_query(user).subquery().c.id)
    on_file = or_(exists().where(Child.photo_sha256 == sha256, Child.id.in_(readable)),
                  exists().where(Guardian.photo_sha256 == sha256, Guardian.child_id.in_(readable)))
    if not db.session.scalar(select(on_file)):
        return None
    return db.session.scalar(select(Photo).where(Photo.sha256 == sha256, Photo.school_id == user.school_id)
                             .order_by(Photo.id).limit(1))


def may_see_evidence(user: User, record: Record) -> bool:
    """A record's flags and score, and its reviewers' comments: the principal and the record's author."""
    return can(user, "review_records") or record.author_id == user.id


def may_see_history(user: User, record: Record) -> bool:
    """A record's review and confirmation steps: those who see its evidence, and the village committee."""
    return may_see_evidence(user, record) or can(user, "confirm_visits")


def can_manage_children(user: User) -> bool:
    """Principals create and edit files, guardians and pairings."""
    return can(user, "manage_children")


def may_edit_plan(user: User, child: Child) -> bool:
    """A child's plan (一人一策): the principal, the child's responsible teacher, or the class teacher of its class;
    `child` comes from get_child, so it is one `user` may see."""
    if can(user, "manage_children"):
        return True
    if user.role != "teacher" or child.school_id != user.school_id:
        return False
    if any(p.responsible and p.teacher_id == user.id for p in child.pairings):
        return True
    return child.class_name is not None and db.session.scalar(select(ClassTeacher.id).where(
        ClassTeacher.school_id == child.school_id, ClassTeacher.class_name == child.class_name,
        ClassTeacher.teacher_id == user.id)) is not None


def incidents_query(user: User) -> Select:
    """The incidents `user` may see: the school's for principal and counsellor; a teacher the ones they reported or
    about their paired children; nobody else."""
    q = select(Incident).where(Incident.school_id == user.school_id)
    if can(user, "see_all_incidents"):
        return q
    if user.role == "teacher":
        return q.where((Incident.reported_by_id == user.id) | Incident.child_id.in_(child_ids_query(user)))
    return q.where(false())


def may_close_incident(user: User, incident: Incident) -> bool:
    """Its reporter closes an incident, or whoever sees all of the school's."""
    return can(user, "see_all_incidents") or incident.reported_by_id == user.id


def may_hold_confirm_secret(user: User) -> bool:
    """Only a committee member with a village gets a code secret (the code confirms visits in that village)."""
    return can(user, "confirm_visits") and user.village_id is not None


def term_record_teacher(user: User, wanted: int | None) -> User | None:
    """Whose term record `user` asks for (?teacher=id): a teacher only their own; the principal any teacher of the
    school, or None to choose one; 404 otherwise."""
    if user.role == "teacher":
        if wanted not in (None, user.id):
            abort(404)
        return user
    if wanted is None:
        return None
    teacher = db.session.scalar(select(User).where(User.id == wanted, User.school_id == user.school_id,
                                                   User.role == "teacher"))
    if teacher is None:
        abort(404)
    return teacher


def submissions_query(user: User) -> Select:
    """The monthly reports `user` may open: the school's for whoever reads its monthly report or submits it; the
    county's sent ones (never a draft) for the bureau; nothing for anyone else."""
    q = select(MonthlySubmission)
    if can(user, "receive_monthly"):
        return (q.join(School, School.id == MonthlySubmission.school_id)
                .where(School.county_id == user.county_id, MonthlySubmission.state != "draft"))
    if can(user, "read_monthly") or can(user, "submit_monthly"):
        return q.where(MonthlySubmission.school_id == user.school_id)
    return q.where(false())


def get_submission(user: User, submission_id: int) -> MonthlySubmission:
    """The monthly report with this id if `user` may open it; 404 otherwise."""
    sub = db.session.scalar(submissions_query(user).where(MonthlySubmission.id == submission_id))
    if sub is None:
        abort(404)
    return sub


def visible_news_photo(user: User, photo_id: int) -> Photo | None:
    """A photo shown in a news item of a monthly report `user` may open; None otherwise."""
    opened = submissions_query(user).with_only_columns(MonthlySubmission.id)
    return db.session.scalar(
        select(Photo).join(NewsPhoto, NewsPhoto.photo_id == Photo.id).join(NewsItem, NewsItem.id == NewsPhoto.news_item_id)
        .where(Photo.id == photo_id, NewsItem.submission_id.in_(opened)).limit(1))


def county_incidents_query(user: User) -> Select:
    """The emergencies of the county's schools, for the bureau (their school, category, time and clocks: no child)."""
    if not can(user, "ack_emergencies"):
        return select(Incident).where(false())
    return select(Incident).join(School, School.id == Incident.school_id).where(School.county_id == user.county_id)
def follow_ups_query(user: User) -> Select:
    """The follow-ups `user` may see: those of the children they see, and the ones given to them."""
    from .models import FollowUp

    q = select(FollowUp).where(FollowUp.school_id == user.school_id)
    if can(user, "see_whole_school"):
        return q
    if can(user, "see_attention"):
        return q.where(FollowUp.child_id.in_(child_ids_query(user)) | (FollowUp.assignee_id == user.id))
    return q.where(false())


def get_follow_up(user: User, follow_up_id: int):
    """The follow-up with this id if `user` may see it; 404 otherwise."""
    from .models import FollowUp

    fu = db.session.scalar(follow_ups_query(user).where(FollowUp.id == follow_up_id))
    if fu is None:
        abort(404)
    return fu


def may_close_follow_up(user: User, fu) -> bool:
    """Whoever it is given to closes a follow-up, or who made it, or the principal."""
    return user.id in (fu.assignee_id, fu.record.author_id) or can(user, "assign_follow_ups")


def may_read_follow_up(user: User, fu, printed: bool = False) -> bool:
    """What a follow-up says: hidden from whoever may not read its source record's content (counselling), and on
    printed pages and exports from everyone (may_read_content)."""
    return fu.source is None or may_read_content(user, fu.source, printed)


def requires(capability: str):
    """Let only the roles with this capability in (login first; 403 for the school's other roles, 404 for the
    county's staff, for whom a school's pages do not exist)."""
    roles = CAPABILITIES[capability]

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404 if current_user.role in COUNTY_ROLES else 403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def survey_changes_query(user: User) -> Select:
    """The survey proposals `user` may decide: their school's, for those who apply surveys; nothing for anyone else."""
    from .models import SurveyChange

    q = select(SurveyChange).where(SurveyChange.school_id == user.school_id)
    return q if can(user, "apply_surveys") else q.where(false())


def child_proposals_query(user: User) -> Select:
    """The new children proposed from the field that `user` may decide on (as survey_changes_query)."""
    from .models import ChildProposal

    q = select(ChildProposal).where(ChildProposal.school_id == user.school_id)
    return q if can(user, "apply_surveys") else q.where(false())
def school_staff_required(view):
    """Login, and a school's own staff only: the county's staff answer 404 (the phone's API for a school's children,
    records, photos and incidents is none of theirs; their pages are aggregates)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role in COUNTY_ROLES:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def devices_query(user: User) -> Select:
    """The phones `user` may see and report lost: their own, and their school's staff's for who manages phones."""
    from .models import Device

    if can(user, "manage_phones") and user.school_id is not None:
        staff = select(User.id).where(User.school_id == user.school_id, User.role.in_(SCHOOL_STAFF_ROLES))
        return select(Device).where(or_(Device.user_id == user.id, Device.user_id.in_(staff)))
    return select(Device).where(Device.user_id == user.id)


def held_records_query(user: User) -> Select:
    """The held records `user` may decide: their school's, for who assigns them; nothing for anyone else."""
    from .models import HeldRecord

    q = select(HeldRecord).where(HeldRecord.school_id == user.school_id)
    return q if can(user, "assign_held_records") else q.where(false())
