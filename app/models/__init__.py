"""All models, imported here so Alembic and the app see one metadata."""
from .audit import AuditEntry
from .records import (CONFIDENTIAL_KINDS, CONFIRM_STATES, CONFIRMED_KINDS, DUTY_KINDS, KINDS, RULE_KINDS, REVIEW_STATES, CodeAttempt, Confirmation, Photo,
                      Record, RecordPhoto, ReviewEvent)
from .duties import (INCIDENT_TARGETS, PERIODS, SEASONS, DutyRule, DutyTally, Incident, IncidentNotice, Notification, PushSubscription,
                     Term)
from .duties import SchoolFigures
from .people import (COUNTY_ROLES, FILE_CHANGE_SOURCES, LEAVE_REASONS, ROLES, Child, ClassTeacher, Consent, County, FileChange, Guardian,
                     LoginFailure, Pairing, School, User, Village)

__all__ = ["INCIDENT_TARGETS", "PERIODS", "SEASONS", "DutyRule", "DutyTally", "Incident", "IncidentNotice", "Notification", "PushSubscription",
           "Term", "CONFIDENTIAL_KINDS", "CONFIRM_STATES", "CONFIRMED_KINDS", "RULE_KINDS", "CodeAttempt", "DUTY_KINDS", "Confirmation", "REVIEW_STATES", "ReviewEvent", "KINDS", "Photo", "Record", "RecordPhoto", "AuditEntry", "Child", "Consent", "Guardian", "LoginFailure", "Pairing", "ROLES", "School", "User", "Village", "COUNTY_ROLES", "FILE_CHANGE_SOURCES", "LEAVE_REASONS", "ClassTeacher", "County",
           "FileChange", "SchoolFigures"]
