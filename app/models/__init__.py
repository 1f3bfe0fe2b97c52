"""All models, imported here so Alembic and the app see one metadata."""
from .activities import ACTIVITY_KIND, Activity, ActivityPhoto
from .audit import AuditEntry
from .records import (CONFIDENTIAL_KINDS, CONFIRM_STATES, CONFIRMED_KINDS, DUTY_KINDS, KINDS, RULE_KINDS, REVIEW_STATES, CodeAttempt, Confirmation, Photo,
                      Record, RecordPhoto, ReviewEvent)
from .duties import (INCIDENT_TARGETS, PERIODS, SEASONS, DutyRule, DutyTally, Incident, IncidentNotice, Notification, PushSubscription,
                     Term)
from .duties import SchoolFigures
from .people import (COUNTY_ROLES, FILE_CHANGE_SOURCES, LEAVE_REASONS, ROLES, Child, ClassTeacher, Consent, County, FileChange, Guardian,
                     LoginFailure, Pairing, School, User, Village)
from .sync import ALL_SCHOOLS, RosterStamp
from .reporting import REVIEW_KINDS, REVIEW_OUTCOMES, SUBMISSION_STATES, MonthlySubmission, NewsItem, NewsPhoto, SchoolReview
from .surveys import PROPOSAL_STATES, ChildProposal, SurveyChange
from .care import BUILTIN_CATEGORIES, CareCategory, CarePlan, ChildCategory
from .followups import FOLLOW_UP_STATES, FollowUp
from .vault import DeviceKey
from .phones import HELD_OUTCOMES, WIPE_REASONS, Device, HeldRecord, PairingSpan

from types import ModuleType as _Module  # noqa: E402

# Every model and vocabulary imported above (not the submodules): one line per module above, nothing to keep in step.
__all__ = [name for name, value in dict(globals()).items() if not name.startswith("_") and not isinstance(value, _Module)]
