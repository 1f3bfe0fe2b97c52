"""GET /api/v1/openapi.json: the sync contract as OpenAPI 3, with each kind's fields from the one definition."""
from flask import jsonify
from flask_login import login_required

from ..incidents.services import CATEGORIES, phone_rules
from ..models import CONFIRM_STATES, PERIODS, REVIEW_STATES, SEASONS
from ..notify.routes import MAX_IDS
from ..records.kinds import PHONE_KINDS as KINDS  # new_child too: sent like a record (it has no child_id yet)
from ..records.kinds import kinds_json
from ..verify import totp
from ..web import MAX_ID
from . import bp

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}  # a database id: larger ones are refused at the boundary


def _field_schema(f) -> dict:
    s: dict = {"title": str(f.label)}
    if f.type in ("text", "longtext"):
        s.update(type="string", maxLength=f.max_length)
    elif f.type == "bool":
        s.update(type="boolean")
    elif f.type == "int":
        s.update(type="integer", minimum=f.min, maximum=f.max)
    elif f.type == "code":
        s.update(type="string", pattern="^[0-9]{6}$",
                 description="the one-time code (RFC 6238, 3-minute step) shown on a village committee member's phone")
    elif f.type == "signature":
        s.update(type="string", pattern="^[0-9a-f]{64}$",
                 description="SHA-256 of a PNG uploaded first with PUT /api/v1/photos/{sha256}?kind=signature")
    elif f.type == "attendance":
        s.update(type="array", maxItems=500, description="a group activity's attendance (its child_id is ignored): who "
                 "came, each a child the author may see", items={"type": "object", "required": ["child_id"], "properties": {
                     "child_id": ID, "child": {"type": "boolean"}, "guardian": {"type": "boolean"}}})
    elif f.type == "date":
        s.update(type="string", format="date")
    elif f.type == "enum":
        s.update(type="string", enum=[v for v, _l in f.choices])
        s["x-labels"] = {v: str(lbl) for v, lbl in f.choices}
    if f.default is not None:
        s["default"] = f.default
    return s


def _kind_schema(kind) -> dict:
    return {
        "type": "object",
        "title": str(kind.label),
        "additionalProperties": False,
        "required": [f.name for f in kind.fields if f.required],
        "properties": {f.name: _field_schema(f) for f in kind.fields},
        **({"x-confidential": True, "description": "Written and read only by the school's counsellors; the principal sees only that a session took place."} if kind.confidential else {}),
    }


def _err(description, code_example):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"},
                                                                          "example": {"error": code_example, "message": "…"}}}}


HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete")


def _common_errors(paths: dict) -> dict:
    """Add to every operation the answers any call of its shape can give, where it does not describe them itself:
    401 when it needs a login, 403 csrf_failed when it takes X-CSRFToken, 400 and 413 for a body (malformed, not the
    documented type, nested too deep, or too large), 400 for a query parameter out of range."""
    for item in paths.values():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = op["responses"]
            params = op.get("parameters", []) + item.get("parameters", [])
            if op.get("security") != []:
                responses.setdefault("401", _err("not logged in", "unauthorized"))
            if any(p["in"] == "header" and p["name"] == "X-CSRFToken" for p in params):
                responses.setdefault("403", _err("missing or stale CSRF token", "csrf_failed"))
            if "requestBody" in op:
                responses.setdefault("400", _err("not JSON, not the documented shape, or nested too deep", "bad_json"))
                responses.setdefault("413", _err("over the size limit", "too_large"))
            if any(p["in"] == "query" and p["schema"].get("type") == "integer" for p in params):
                responses.setdefault("400", _err("a parameter is not a whole number in range", "bad_parameter"))
    return paths


OFFSET_HEADER = {"description": "bytes of the caller's partial upload the server holds", "schema": {"type": "integer", "minimum": 0}}
RESUMABLE = (
    "Resumable (for 2G): send `Content-Range: bytes first-last/total` with each chunk, the first from 0 (or from HEAD's "
    "Upload-Offset). The server appends what arrives to the caller's own partial upload as it comes, so a cut keeps "
    "every byte received; each chunk must start where the partial ends (409 with the offset otherwise). The last "
    "chunk runs the same checks as a whole upload and answers as one; a refusal for good (400, 413, 415, 422) drops "
    "the partial, a 429 or 503 keeps all but that chunk. Partials are private to their uploader, never stored under "
    "the photo's name, and removed after 24 h untouched (PHOTO_PARTIAL_MAX_AGE). A PUT without Content-Range sends "
    "the whole file, as before.")


def spec() -> dict:
    """Build the OpenAPI document."""
    record_variants = []
    for k in KINDS.values():
        record_variants.append({
            "allOf": [{"$ref": "#/components/schemas/RecordBase"}, {
                "type": "object",
                "properties": {"kind": {"const": k.name}, "fields": {"$ref": f"#/components/schemas/Fields_{k.name}"}},
            }],
        })
    schemas = {
        "Error": {"type": "object", "required": ["error", "message"], "properties": {
            "error": {"type": "string", "description": "stable machine code"}, "message": {"type": "string", "description": "in the user's language"}}},
        "Session": {"type": "object", "properties": {
            "user": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "role": {"type": "string"}, "username": {"type": "string"}, "must_change_password": {"type": "boolean"}, "capabilities": {"type": "array", "items": {"type": "string"}, "description": "what this role may do (app/access.py CAPABILITIES): the phone shows only the controls they allow"}}},
            "csrf_token": {"type": "string", "description": "send as X-CSRFToken on every state-changing call"}}},
        "Location": {"type": ["object", "null"], "required": ["lat", "lon"], "properties": {
            "lat": {"type": "number", "minimum": -90, "maximum": 90}, "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "accuracy_m": {"type": ["number", "null"], "minimum": 0}}},
        "RecordBase": {"type": "object", "required": ["id", "kind", "child_id", "occurred_at", "fields"], "properties": {
            "id": {"type": "string", "format": "uuid", "description": "made on the phone when the record is started (UUID v4)"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "child_id": ID,
            "occurred_at": {"type": "string", "format": "date-time", "description": "ISO 8601; without an offset it is read as Asia/Shanghai; at most 10 minutes in the future"},
            "fields": {"type": "object"},
            "photos": {"type": "array", "maxItems": 20, "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "description": "SHA-256 of photos this author uploaded first"},
            "location": {"$ref": "#/components/schemas/Location"},
            "client": {"type": "object", "description": "how the phone saved it: {saved_at, online}", "properties": {
                "saved_at": {"type": "string", "format": "date-time"}, "online": {"type": "boolean"}}},
            "corrects_id": {**ID, "description": "server id of the record this one corrects"}}},
        "Record": {"oneOf": record_variants, "discriminator": {"propertyName": "kind"}},
        "RecordResult": {"type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": ["string", "null"], "description": "the record's id as sent (cut to 64 characters); null when it sent none"},
            "status": {"type": "string", "enum": ["created", "duplicate", "missing_photos", "rejected", "held"]},
            "errors": {"type": "object", "description": "rejected: {field: reason}; missing_photos: {photos: [sha256, …]}; held: kept for the principal (the author no longer had the child), do not resend"}}},
        "Notification": {"type": "object", "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"}, "text": {"type": "string", "description": "in Chinese"},
            "url": {"type": ["string", "null"], "description": "the page it is about (a path on this server)"},
            "created_at": {"type": "string", "format": "date-time"}, "read": {"type": "boolean"}}},
        "Incident": {"type": "object", "required": ["id", "child_id", "category", "description"], "properties": {
            "id": {"type": "string", "format": "uuid", "description": "made on the phone when the report is started"},
            "child_id": ID,
            "occurred_at": {"type": "string", "format": "date-time", "description": "as for records; the reporting time if left out"},
            "category": {"type": "string", "enum": list(CATEGORIES), "x-labels": {k: str(v) for k, v in CATEGORIES.items()}},
            "description": {"type": "string", "maxLength": 4000}}},
        "Kind": {"type": "object", "required": ["name", "label", "writers", "fields"], "properties": {
            "name": {"type": "string", "enum": list(KINDS)}, "label": {"type": "string"},
            "writers": {"type": "array", "items": {"type": "string"},
                        "description": "the roles that may write this kind; the app offers it only to them"},
            "form": {"type": "string", "description": "the phone's own view for this kind (survey, survey-new)"},
            "fields": {"type": "array", "items": {"type": "object", "required": ["name", "label", "type", "required"]}}}},
        "IncidentRules": {"type": "object", "description": "what the offline report form needs", "properties": {
            "categories": {"type": "array", "items": {"type": "object", "properties": {
                "value": {"type": "string", "enum": list(CATEGORIES)}, "label": {"type": "string"}}}},
            "clocks": {"type": "array", "description": "the deadlines, counted from the incident's time", "items": {
                "type": "object", "properties": {
                    "target": {"type": "string", "description": "who must be told"}, "minutes": {"type": "integer"},
                    "label": {"type": "string", "description": "who, in the user's language"},
                    "within": {"type": "string", "description": "the limit, in the user's language"}}}}}},
        "Review": {"type": "object", "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"}, "occurred_at": {"type": "string", "format": "date-time"},
            "review_state": {"type": "string", "enum": list(REVIEW_STATES)},
            "label": {"type": "string", "description": "the state in the user's language"}}},
        "Returned": {"type": "object", "description": (
            "a returned record: what the phone shows and refills a correction from (send it as a new record with "
            "corrects_id = id; the committee code and signature are not repeated: the correction inherits them)"),
            "properties": {
                "id": {"type": "integer", "description": "the server id, the correction's corrects_id"},
                "kind": {"type": "string"}, "child_id": {"type": "integer"},
                "occurred_at": {"type": "string", "format": "date-time"},
                "fields": {"type": "object", "description": "the original's fields without confirm_code and signature"},
                "confirm_state": {"type": "string", "enum": list(CONFIRM_STATES)},
                "reason": {"type": "string", "description": "the principal's reason"},
                "returned_at": {"type": "string", "format": "date-time"},
                "deadline": {"type": "string", "format": "date", "description": "the last day to correct it (China date)"}}},
        "Window": {"type": "object", "required": ["start", "end"], "properties": {
            "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date", "description": "inclusive"}}},
        "Duties": {"type": ["object", "null"], "description": (
            "a teacher's duty rules, computed by the server (null for other roles). On a China date D between valid_from "
            "and valid_until, a rule's current period is the window containing D and its previous period that window's "
            "`previous`; a day in no window is out of the rule's season (nothing due, nothing overdue). A record counts "
            "toward a rule when its kind is the rule's and, for every field of the rule's filter, its value is in the list"),
            "properties": {
            "today": {"type": "string", "format": "date"},
            "valid_from": {"type": "string", "format": "date"}, "valid_until": {"type": "string", "format": "date"},
            "rules": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string", "description": "names the rule in counts"}, "kind": {"type": "string"},
                "label": {"type": "string"},
                "filter": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                           "description": "field -> allowed values; {} = every record of the kind"},
                "period": {"type": "string", "enum": list(PERIODS)}, "season": {"type": "string", "enum": list(SEASONS)},
                "times": {"type": "integer", "description": "counting records needed per period"},
                "owner": {"type": "string", "enum": ["responsible", "class_teacher"],
                          "description": "whose due list the duty is on (each child's `duties` says it for the caller)"},
                "categories": {"type": "array", "items": {"type": "string"},
                               "description": "the child categories the rule is for; [] = every child"},
                "children": {"oneOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}],
                             "description": "ids of the roster's children the rule applies to; null = all of them"},
                "current": {"oneOf": [{"$ref": "#/components/schemas/Window"}, {"type": "null"}]},
                "previous": {"oneOf": [{"$ref": "#/components/schemas/Window"}, {"type": "null"}]},
                "windows": {"type": "array", "description": "oldest first", "items": {"allOf": [
                    {"$ref": "#/components/schemas/Window"}, {"type": "object", "properties": {
                        "previous": {"oneOf": [{"$ref": "#/components/schemas/Window"}, {"type": "null"}]}}}]}}}}},
            "counts": {"type": "object", "description": "{child id: {rule key: {current: n, previous: n}}} as of today"},
            "terms": {"type": "array", "deprecated": True, "description": "[name, start, end]; kept for older app versions"}}},
        **{f"Fields_{k.name}": _kind_schema(k) for k in KINDS.values()},
    }
    csrf = {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"}}
    ok_json = lambda description, schema: {"description": description, "content": {"application/json": {"schema": schema}}}  # noqa: E731
    unauthorized = _err("not logged in", "unauthorized")
    paths = {
        "/api/v1/session": {
            "post": {"summary": "Log in", "security": [], "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                "responses": {"200": {"description": "logged in", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                              "401": _err("bad credentials", "bad_credentials"), "415": _err("not JSON", "unsupported_media_type"),
                              "429": _err("too many failures", "rate_limited")}},
            "get": {"summary": "The current session and a fresh CSRF token", "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                "401": _err("not logged in", "unauthorized")}},
            "delete": {"summary": "Log out; the client then wipes its local store", "security": [], "responses": {"204": {"description": "logged out"}}},
        },
        "/api/v1/roster": {"get": {"summary": "Children the caller may see, with what a visit needs offline",
                                   "parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
                                   "responses": {"200": ok_json("roster, with an ETag", {"type": "object", "properties": {
                                       "school": {"type": ["object", "null"]},
                                       "children": {"type": "array", "description": (
                                           "each child's contacts, `last` record times by kind, and `reviews`: the "
                                           "caller's latest records about the child with their review state"),
                                           "items": {"type": "object", "properties": {"reviews": {
                                               "type": "array", "items": {"$ref": "#/components/schemas/Review"}},
                                               "duties": {"type": "array", "items": {"type": "string"}, "description": (
                                                   "keys of the duty rules whose duty for this child is on the "
                                                   "caller's list (the rule's owner: paired or class teacher)")}}}},
                                       "duties": {"$ref": "#/components/schemas/Duties"},
                                       "limits": {"type": "object", "properties": {"photos_per_record": {"type": "integer"}},
                                                  "description": "the server's limits the phone enforces"},
                                       "returned": {"type": "array", "items": {"$ref": "#/components/schemas/Returned"},
                                                    "description": "the caller's records the principal returned, "
                                                                   "not yet corrected, earliest deadline first"}}}),
                                                 "304": {"description": "not modified"},
                                                 "401": _err("not logged in", "unauthorized")}}},
        "/api/v1/kinds": {"get": {"summary": "Record kinds and their fields with labels in the user's language",
                                  "responses": {"200": ok_json("the kinds, and the emergency report's categories and deadlines", {
                                      "type": "object", "properties": {
                                          "kinds": {"type": "array", "items": {"$ref": "#/components/schemas/Kind"}},
                                          "incident": {"$ref": "#/components/schemas/IncidentRules"}}}),
                                                "401": unauthorized}}},
        "/api/v1/photos/{sha256}": {
            "parameters": [{"name": "sha256", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
            "head": {"summary": "Does the server hold this photo for this user?", "responses": {
                "200": {"description": "held"},
                "404": {"description": "not held; Upload-Offset says how many bytes of the caller's own unfinished "
                                       "upload the server keeps (0 when none): a resumable upload goes on from there",
                        "headers": {"Upload-Offset": OFFSET_HEADER}}}},
            "put": {"summary": "Upload a photo (bytes as stored on the phone), whole or in chunks",
                    "description": RESUMABLE,
                    "parameters": [{"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"}},
                                   {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["photo", "signature"]}},
                                   {"name": "Content-Range", "in": "header", "required": False, "schema": {
                                       "type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"},
                                    "description": "bytes first-last/total of this chunk; leave out to send the whole file"}],
                    "requestBody": {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ("image/jpeg", "image/png", "image/webp")}},
                    "responses": {"201": {"description": "stored"}, "200": {"description": "exists"},
                                  "202": {"description": "chunk kept; send the next from `offset`", "headers": {"Upload-Offset": OFFSET_HEADER},
                                          "content": {"application/json": {"example": {"sha256": "…", "status": "partial", "offset": 65536}}}},
                                  "409": {**_err("the chunk did not start where the caller's partial upload ends "
                                                 "(wrong_offset), or arrived cut short (incomplete_chunk); the body's "
                                                 "`offset` and Upload-Offset say where to go on", "wrong_offset"),
                                          "headers": {"Upload-Offset": OFFSET_HEADER}},
                                  "400": _err("the bytes do not hash to the name (the partial upload is dropped), or a "
                                              "malformed Content-Range (bad_range)", "hash_mismatch"),
                                  "413": _err("over the size limit", "too_large"), "415": _err("not JPEG/PNG/WebP by its bytes", "not_an_image"),
                                  "422": _err("decompression bomb, truncated, undecodable, or more pixels than its format may have "
                                              "(baseline JPEG 40 Mpx; PNG and progressive JPEG 4096×4096; WebP 2896×2896)", "image_rejected"),
                                  "429": _err("over the uploader's daily count or bytes not yet listed by a record",
                                              "upload_quota_unlinked"),
                                  "503": {**_err("every decode slot of the server stayed busy, or another request is writing "
                                                 "this partial upload (upload_in_progress); nothing stored, send again later", "busy"),
                                          "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}}}},
        },
        "/api/v1/records": {"post": {
            "summary": "Send up to 100 records; each is answered on its own",
            "description": "Older phones: a record of the former kind `parent_call` with its old fields (direction "
                           "teacher_to_parent | child_to_parent, parent father | mother | both, duration_min, summary) "
                           "is still accepted and stored as a `contact` by phone (direction teacher_to_family | "
                           "child_to_parents, counterpart father | mother | both_parents), so that records waiting in an "
                           "offline phone's outbox when the server updated are not lost. New clients send `contact`.",
            "parameters": [{"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["records"], "properties": {"records": {"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/Record"}}}}}}},
            "responses": {"200": {"description": "one result per record, in order", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/RecordResult"}}}}}}},
                "400": _err("not JSON or more than 100 records; nothing stored", "too_many_records"),
                "401": _err("not logged in", "unauthorized"), "403": _err("missing or stale CSRF token", "csrf_failed")}}},
        "/api/v1/confirm/secret": {"get": {
            "summary": "A village committee member's own one-time-code secret, for the offline code screen (never cached)",
            "responses": {"200": ok_json("the secret and how to compute codes from it (RFC 6238)", {"type": "object", "properties": {
                "secret": {"type": "string", "description": "base32"}, "algorithm": {"const": "SHA1"},
                "digits": {"const": totp.DIGITS}, "step": {"const": totp.STEP_SECONDS, "description": "seconds"},
                "member": {"type": "string"}, "village": {"type": ["string", "null"]}, "user_id": {"type": "integer"}}}),
                "401": unauthorized, "404": {"description": "the caller is not a village committee member"}}}},
        "/api/v1/notifications": {"get": {
            "summary": "The caller's latest notifications (reminders, returned records, emergencies) and the unread count",
            "parameters": [{"name": "id", "in": "query", "schema": ID,
                            "description": "answer only this one (what a push message points to)"}],
            "responses": {"200": ok_json("notifications, newest first", {"type": "object", "properties": {
                "unread": {"type": "integer"}, "notifications": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}}}}),
                "401": unauthorized}}},
        "/api/v1/device-key": {"post": {
            "summary": "This phone's key from the server (app/vault): wraps a copy of the phone's data key, so records "
                       "not yet sent survive a wrong-PIN wipe and a forgotten PIN is reset with the login password. "
                       "Released after a login of the last 10 minutes, or with the password typed again",
            "parameters": [csrf],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["device_id"], "properties": {
                    "device_id": {"type": "string", "format": "uuid"},
                    "password": {"type": "string", "maxLength": 256}}}}}},
            "responses": {"200": ok_json("the key (base64, 32 bytes), the same for this user and phone each time", {
                "type": "object", "properties": {"key": {"type": "string"}, "device_id": {"type": "string"}}}),
                          "400": _err("device_id not a UUID, or password not a string", "bad_request"),
                          "403": _err("the login is not fresh: the password is needed (password_required), or it "
                                      "was wrong (bad_password)", "password_required"),
                          "429": _err("too many wrong passwords", "rate_limited")}}},
        "/api/v1/device/wiped": {"post": {
            "summary": "The phone (X-Device-Id) wiped its data after a wipe order (the X-Wipe header of an earlier "
                       "answer, given once it had sent its outbox); ends this session",
            "parameters": [csrf],
            "responses": {"204": {"description": "noted; logged out"},
                          "404": _err("this phone has no wipe order", "not_found")}}},
        "/api/v1/notifications/read": {"post": {
            "summary": "Mark the caller's notifications read: {\"ids\": [...]} the listed ones, {\"all\": true} all of them",
            "parameters": [csrf],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                {"type": "object", "required": ["ids"], "additionalProperties": False, "properties": {
                    "ids": {"type": "array", "maxItems": MAX_IDS, "items": ID}}},
                {"type": "object", "required": ["all"], "additionalProperties": False, "properties": {
                    "all": {"const": True}}}]}}}},
            "responses": {"200": ok_json("marked", {"type": "object", "properties": {
                "marked": {"type": "integer"}, "unread": {"type": "integer"}}}),
                "400": _err("any other body: nothing is marked", "bad_ids"), "401": unauthorized}}},
        "/api/v1/push/key": {"get": {
            "summary": "The server's VAPID public key, the applicationServerKey for pushManager.subscribe()",
            "responses": {"200": ok_json("base64url, uncompressed P-256 point", {"type": "object", "properties": {
                "public_key": {"type": "string"}}}), "401": unauthorized}}},
        "/api/v1/push/subscriptions": {
            "post": {"summary": "Store this browser's PushSubscription for the caller (a shared phone's moves to whoever "
                                "subscribes last with the same keys)",
                     "parameters": [csrf],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["endpoint", "keys"], "properties": {
                             "endpoint": {"type": "string", "format": "uri", "description":
                                          "https on a known push service (PUSH_ALLOWED_HOSTS), public addresses only"},
                             "keys": {"type": "object", "required": ["p256dh", "auth"], "properties": {
                                 "p256dh": {"type": "string", "description": "base64url P-256 point"},
                                 "auth": {"type": "string", "description": "base64url, 16 bytes"}}}}}}}},
                     "responses": {"201": {"description": "created"}, "200": {"description": "updated"},
                                   "400": _err("bad JSON, endpoint or keys", "bad_endpoint"), "401": unauthorized,
                                   "409": _err("another user's endpoint, other keys", "endpoint_taken")}},
            "delete": {"summary": "Remove the caller's own subscription for this endpoint",
                       "parameters": [csrf],
                       "requestBody": {"required": True, "content": {"application/json": {"schema": {
                           "type": "object", "required": ["endpoint"], "properties": {"endpoint": {"type": "string"}}}}}},
                       "responses": {"204": {"description": "removed"}, "400": _err("no endpoint", "bad_endpoint"),
                                     "404": _err("the caller has no such subscription", "not_found"), "401": unauthorized}},
        },
        "/api/v1/incidents": {"post": {
            "summary": "Report an emergency (possibly made offline); starts the 30 min / 1 h / 2 h notification clocks",
            "parameters": [csrf],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Incident"}}}},
            "responses": {"201": ok_json("created", {"type": "object", "properties": {
                "id": {"type": "string"}, "status": {"const": "created"}, "incident_id": {"type": "integer"}, "url": {"type": "string"}}}),
                "200": {"description": "already stored under this id (status duplicate)"},
                "400": _err("not a JSON object", "bad_request"),
                "422": _err("a field is wrong; `field` names it", "rejected"), "401": unauthorized}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "家访通 sync API", "version": "1"},
        "paths": _common_errors(paths),
        "components": {"schemas": schemas, "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"session": []}],
    }


@bp.route("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.route("/kinds")
@login_required
def kinds():
    return jsonify({"kinds": kinds_json(), "incident": phone_rules()})
