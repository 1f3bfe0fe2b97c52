"""Demo data: a county bureau with three schools — the main one (three villages, about 40 children, every school role)
and two smaller ones with their own principals, teachers and children. Demo only — the password is public."""
from __future__ import annotations

import hashlib
import io
import random
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from .children.services import create_child, save_guardian, set_pairings
from .clock import CHINA
from .extensions import db
from .models import Child, County, Pairing, Record, School, User, Village


DEMO_PASSWORD = "demo12345"
DEMO_ACCOUNTS = [
    ("teacher1", "李秀兰", "teacher", None),
    ("teacher2", "王建国", "teacher", None),
    ("teacher3", "陈晓燕", "teacher", None),
    ("committee1", "杨德福", "committee", "青山村"),
    ("principal1", "张明华", "principal", None),
    ("counsellor1", "刘静", "counsellor", None),
    ("admin1", "赵磊", "admin", None),
]
VILLAGES = [("青山村", 27.7312, 109.1895), ("石桥村", 27.6921, 109.2473), ("柳溪村", 27.7655, 109.1410)]
COUNTY = ("青溪县", "青溪县教育局", "0856-5220000")
# The county's staff (no school): bureau1 sees the schools' aggregates, bureauadmin1 onboards schools.
COUNTY_ACCOUNTS = [("bureau1", "周文斌", "bureau"), ("bureauadmin1", "吴海燕", "bureau_admin")]
# The two smaller schools: name, hotline, villages, accounts, children.
SMALL_SCHOOLS = [
    ("石门乡小学", "0856-5231234", [("石门村", 27.8120, 109.0521), ("桃园村", 27.8344, 109.0877)],
     [("principal2", "黄国平", "principal", None), ("teacher4", "孙丽", "teacher", None),
      ("teacher5", "罗志勇", "teacher", None), ("committee2", "田大山", "committee", "石门村")], 16),
    ("柳林镇中心小学", "0856-5241234", [("柳林村", 27.6510, 109.3102), ("新寨村", 27.6288, 109.3356)],
     [("principal3", "马红梅", "principal", None), ("teacher6", "郭建", "teacher", None),
      ("committee3", "龙德贵", "committee", "新寨村")], 12),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡田龙石"
BOY = ["浩然", "子轩", "宇航", "俊杰", "明轩", "志强", "文博", "天佑", "家乐", "思远", "鹏飞", "嘉豪", "晨阳", "一鸣", "锦程"]
GIRL = ["欣怡", "梓涵", "雨桐", "诗琪", "佳怡", "思雨", "子萱", "晓雪", "可馨", "雅婷", "梦琪", "语嫣", "若曦", "婉清", "静怡"]
WORK = [
    ("广东省东莞市", "东莞长安电子厂"), ("浙江省宁波市", "宁波北仑建筑公司"), ("福建省泉州市", "泉州晋江鞋厂"),
    ("江苏省苏州市", "苏州工业园区电子厂"), ("上海市", "上海浦东物流公司"), ("广东省深圳市", "深圳宝安服装厂"),
]
GRADES = ["一", "二", "三", "四", "五", "六"]
PERSONALITY = ["内向，话不多", "活泼开朗", "懂事，爱帮助同学", "有些胆小", "好动，注意力不集中", "独立，自理能力强"]
INTERESTS = ["画画", "跑步", "唱歌", "阅读", "篮球", "做手工", "跳绳", "书法"]
HEALTH = ["良好", "良好", "良好", "轻度近视", "体质偏弱", "有哮喘史"]


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("358") + "".join(rng.choice("0123456789") for _ in range(9))


def seed_demo(n_children: int = 40, rng_seed: int = 2026) -> School:
    """Create the demo county, its bureau accounts and its three schools with accounts and children (deterministic);
    returns the main school."""
    rng = random.Random(rng_seed)
    county = County(name=COUNTY[0], bureau_name=COUNTY[1], bureau_phone=COUNTY[2])
    db.session.add(county)
    db.session.flush()
    for username, name, role in COUNTY_ACCOUNTS:
        u = User(username=username, name=name, role=role, county_id=county.id, phone=_phone(random.Random(username)))
        u.set_password(DEMO_PASSWORD)
        db.session.add(u)
    school = _seed_school(rng, county, "红岩乡中心小学", "0856-5221234", VILLAGES, DEMO_ACCOUNTS, n_children, "2026")
    for i, (name, hotline, villages, accounts, kids) in enumerate(SMALL_SCHOOLS):
        _seed_school(random.Random(rng_seed + i + 1), county, name, hotline, villages, accounts, kids, f"20{27 + i}")
    db.session.commit()
    return school


def _seed_school(rng: random.Random, county: County, name: str, hotline: str, village_list, accounts, n_children: int,
                 prefix: str) -> School:
    """One school with its villages, accounts and children, the children shared out among its teachers."""
    school = School(name=name, hotline=hotline, county_id=county.id)
    db.session.add(school)
    villages = {name: Village(school=school, name=name, lat=lat, lon=lon) for name, lat, lon in village_list}
    db.session.add_all(villages.values())
    db.session.flush()
    users = {}
    for username, name, role, village in accounts:
        u = User(username=username, name=name, role=role, school_id=school.id, phone=_phone(rng),
                 village_id=villages[village].id if village else None)
        u.set_password(DEMO_PASSWORD)
        users[username] = u
    db.session.add_all(users.values())
    db.session.flush()
    teachers = [u for u in users.values() if u.role == "teacher"]
    vlist = list(villages.values())
    for i in range(n_children):
        surname = rng.choice(SURNAMES)
        sex = rng.choice(["male", "female"])
        name = surname + rng.choice(BOY if sex == "male" else GIRL)
        g = i % 6
        birth = date(2020 - g - rng.randint(0, 1), rng.randint(1, 12), rng.randint(1, 28))
        village = vlist[i % len(vlist)]
        away = rng.choice(["both", "both", "father", "mother"])
        grandma = surname if rng.random() < 0.7 else rng.choice(SURNAMES)
        child_data = {
            "student_no": f"{prefix}{i + 1:04d}", "name": name, "sex": sex, "birth_date": birth,
            "grade": f"{GRADES[g]}年级", "class_name": f"{GRADES[g]}({1 + i % 2})班", "boarding": g >= 4 and rng.random() < 0.5,
            "village_id": village.id, "address": f"{village.name}{rng.randint(1, 9)}组{rng.randint(1, 60)}号",
            "parents_away": away, "personality": rng.choice(PERSONALITY), "interests": "、".join(rng.sample(INTERESTS, 2)),
            "health": rng.choice(HEALTH), "study": rng.choice(["成绩中等", "成绩较好", "数学偏弱", "语文较好，需加强阅读"]),
            "psychology": rng.choice(["情绪稳定", "想念父母，偶尔低落", "较敏感，需多鼓励"]),
            "special_needs": rng.choice([None, None, "希望每周能与父母视频一次", "需要课后作业辅导"]),
            "surveyed_on": date(2026, 9, 2),
        }
        guardian = {
            "role": "guardian", "name": grandma + rng.choice(["秀英", "桂兰", "玉珍", "德明", "开富", "永贵"]),
            "relationship_": rng.choice(["奶奶", "爷爷", "外婆", "外公"]), "phone": _phone(rng), "age": rng.randint(58, 76),
            "health": rng.choice(["健康", "高血压", "腿脚不便", "一般"]), "occupation": "务农", "address": child_data["address"],
        }
        child = create_child(school.id, child_data, guardian, {"consented_on": date(2026, 9, 1), "notice_version": "2026-1"}, None)
        for role in (["father", "mother"] if away == "both" else [away]):
            place, employer = rng.choice(WORK)
            save_guardian(child, {
                "role": role, "name": (surname if role == "father" else rng.choice(SURNAMES)) + rng.choice(["国强", "建华", "小红", "丽娟", "海涛", "春梅"]),
                "relationship_": "父亲" if role == "father" else "母亲", "phone": _phone(rng), "age": rng.randint(30, 42),
                "health": "健康", "occupation": "务工", "work_place": place, "employer": employer, "employer_address": place,
            }, None)
        teacher = teachers[min(i * len(teachers) // n_children, len(teachers) - 1)]
        set_pairings(child, [teacher.id], teacher.id, None)
    db.session.flush()
    return school


def is_empty() -> bool:
    """True when the database holds no school yet."""
    return (db.session.scalar(select(func.count()).select_from(School)) or 0) == 0 and not db.session.scalar(select(func.count()).select_from(Child))


def _demo_photo(seed: int, taken: datetime | None, gps: tuple[float, float] | None) -> bytes:
    """A drawn 'photo' (a house, a hill, people) with the EXIF a phone would write."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    im = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180])).resize((960, 720)).convert("RGB")
    d = ImageDraw.Draw(im)
    d.polygon([(0, 720), (rng.randint(200, 500), rng.randint(250, 400)), (960, 720)], fill=(60 + rng.randint(0, 80), 120, 70))
    x = rng.randint(80, 600)
    d.rectangle([x, 380, x + 260, 600], fill=(rng.randint(150, 230), rng.randint(120, 200), 140))
    d.polygon([(x - 20, 380), (x + 130, 280), (x + 280, 380)], fill=(120, 50, 40))
    for _ in range(3):
        px = rng.randint(20, 900)
        d.ellipse([px, 520, px + 40, 560], fill=(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)))
        d.rectangle([px + 5, 560, px + 35, 660], fill=(rng.randint(0, 255), 60, 90))
    ex = Image.Exif()
    ex[0x010F], ex[0x0110] = "Xiaomi", "Redmi 9A"
    if taken is not None:
        ex.get_ifd(0x8769)[0x9003] = taken.astimezone(CHINA).strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        def dms(v):
            deg = int(v)
            minutes = int((v - deg) * 60)
            return (deg, minutes, round(((v - deg) * 60 - minutes) * 60, 2))
        ex.get_ifd(0x8825).update({1: "N", 2: dms(gps[0]), 3: "E", 4: dms(gps[1])})
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80, exif=ex)
    return out.getvalue()


def seed_demo_records(now: datetime | None = None) -> int:
    """A few days of teacher1's work, so the review queue, the committee's queue and the flags have something to
    show: a confirmed visit, a visit reusing its photo, one with no photo, one far from the village, a talk, a child's
    family call by video, a call with the guardian; and, for the term record, a parents' meeting with its sign-in and
    an open follow-up."""
    from .photos.services import save_upload
    from .records.services import ingest
    from .verify import totp
    from .verify.services import secret_for

    now = now or datetime.now(CHINA)
    teacher = db.session.scalar(select(User).where(User.username == "teacher1"))
    member = db.session.scalar(select(User).where(User.username == "committee1"))
    if teacher is None or member is None:
        return 0
    kids = list(db.session.scalars(select(Child).join(Pairing, Pairing.child_id == Child.id).where(
        Pairing.teacher_id == teacher.id, Child.village_id == member.village_id).order_by(Child.id)))
    village = db.session.get(Village, member.village_id)
    home = (village.lat + 0.002, village.lon + 0.003)

    def upload(data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        save_upload(teacher, sha, data)
        return sha

    def visit(child, when, photos, code=None, **extra):
        fields = {"purpose": "了解孩子在家学习和生活情况，反馈期中考试成绩", "guardian_present": True, "met_person": "奶奶",
                  "met_relationship": "祖母", "told_guardian": "孩子在校表现稳定，数学有进步，作业能按时完成",
                  "study_rating": "good", "life_rating": "good", "psychology_rating": "fair",
                  "psychology_note": "想念父母，周末常一个人待着", "safety_rating": "good",
                  "guardian_concerns": "担心孩子放学路上的安全", "follow_up": "每周谈心一次，帮助联系父母视频",
                  "next_visit_plan": "下个月月底"}
        if code:
            fields["confirm_code"] = code
        return {"id": str(uuid.UUID(int=random.Random(str(when) + child.name).getrandbits(128))), "kind": "home_visit",
                "child_id": child.id, "occurred_at": when.isoformat(timespec="seconds"), "fields": fields,
                "photos": photos, "location": {"lat": home[0], "lon": home[1], "accuracy_m": 30},
                "client": {"saved_at": (when + timedelta(minutes=25)).isoformat(), "online": False}, **extra}

    day = now.replace(hour=16, minute=10, second=0, microsecond=0)
    t0, t1, t2, t3, t4 = (day - timedelta(days=d) for d in (5, 4, 3, 2, 1))
    p1 = _demo_photo(1, t1 + timedelta(minutes=5), home)
    p1_again = io.BytesIO()
    from PIL import Image

    Image.open(io.BytesIO(p1)).crop((20, 15, 940, 705)).save(p1_again, "JPEG", quality=60)  # the same picture again
    code = totp.code_at(secret_for(member), (t1 + timedelta(minutes=30)).timestamp())
    code0 = totp.code_at(secret_for(member), (t0 + timedelta(minutes=40)).timestamp())
    items = [
        visit(kids[4 % len(kids)], t0, [upload(_demo_photo(4, t0 + timedelta(minutes=12), home))], code=code0),
        visit(kids[0], t1, [upload(p1), upload(_demo_photo(2, t1 + timedelta(minutes=9), home))], code=code),
        visit(kids[1], t2, [upload(p1_again.getvalue())]),
        visit(kids[2], t3, []),
        visit(kids[3 % len(kids)], t4, [upload(_demo_photo(3, t4 - timedelta(days=2), (23.1291, 113.2644)))]),
        {"id": str(uuid.UUID(int=random.Random("talk").getrandbits(128))), "kind": "talk", "child_id": kids[0].id,
         "occurred_at": (t4 - timedelta(hours=4)).isoformat(timespec="seconds"),
         "fields": {"topic": "期中考试后的心情", "mood": "calm", "summary": "说想妈妈，但考试进步了很开心。", "follow_up": "周五再聊"},
         "photos": [], "client": {"saved_at": (t4 - timedelta(hours=3, minutes=40)).isoformat(), "online": True}},
        # The child's family call, by video (亲情视频), in the teacher's office.
        {"id": str(uuid.UUID(int=random.Random("call").getrandbits(128))), "kind": "contact", "child_id": kids[1].id,
         "occurred_at": (t3 - timedelta(hours=3)).isoformat(timespec="seconds"),
         "fields": {"counterpart": "mother", "direction": "child_to_parents", "channel": "video", "duration_min": 12,
                    "summary": "孩子和妈妈视频，讲了学校运动会。"}, "photos": [],
         "client": {"saved_at": (t3 - timedelta(hours=2, minutes=45)).isoformat(), "online": True}},
        # The teacher calls the entrusted guardian (the grandmother) about the week.
        {"id": str(uuid.UUID(int=random.Random("guardian call").getrandbits(128))), "kind": "contact",
         "child_id": kids[2].id, "occurred_at": (t1 + timedelta(hours=3)).isoformat(timespec="seconds"),
         "fields": {"counterpart": "guardian", "direction": "teacher_to_family", "channel": "phone", "duration_min": 8,
                    "summary": "和奶奶通话：孩子这周按时吃饭，晚上作业奶奶看不懂，约定有问题就打电话给老师。"},
         "photos": [], "client": {"saved_at": (t1 + timedelta(hours=3, minutes=10)).isoformat(), "online": True}},
        # A parents' meeting: the children of the village came, the guardians of the first two as well.
        {"id": str(uuid.UUID(int=random.Random("activity").getrandbits(128))), "kind": "activity", "child_id": 0,
         "occurred_at": (t2 - timedelta(hours=2)).isoformat(timespec="seconds"),
         "fields": {"type": "parents_meeting", "title": "期中家长会", "place": "三年级教室",
                    "summary": "反馈期中考试情况，讲解冬季防火和交通安全，请监护人督促孩子按时完成作业。",
                    "attendance": [{"child_id": k.id, "child": True, "guardian": n < 2} for n, k in enumerate(kids)]},
         "photos": [], "client": {"saved_at": (t2 - timedelta(hours=1)).isoformat(), "online": True}},
        # What the teacher agreed to do after the visit, still open (due in ten days).
        {"id": str(uuid.UUID(int=random.Random("follow-up").getrandbits(128))), "kind": "follow_up",
         "child_id": kids[1].id, "occurred_at": (t2 + timedelta(hours=1)).isoformat(timespec="seconds"),
         "fields": {"what": "帮孩子和在外务工的妈妈约好每周三晚上视频，两周后回访奶奶看是否落实",
                    "due_on": (now.date() + timedelta(days=10)).isoformat()},
         "photos": [], "client": {"saved_at": (t2 + timedelta(hours=1, minutes=5)).isoformat(), "online": True}},
    ]
    # The holiday handover before the last holiday, in its window (the term's last two weeks), acknowledged by the
    # guardian on the spot and by the village committee in its queue.
    from .duties.services import HANDOVER_DAYS, term_windows

    last_term = term_windows(teacher.school_id, now.date())[1]
    handover_id = str(uuid.UUID(int=random.Random("handover").getrandbits(128)))
    if last_term is not None:
        when = datetime.combine(last_term[1].end - timedelta(days=HANDOVER_DAYS // 2), datetime.min.time(), CHINA) \
            + timedelta(hours=15)
        items.append({"id": handover_id, "kind": "handover", "child_id": kids[0].id,
                      "occurred_at": when.isoformat(timespec="seconds"),
                      "fields": {"caretaker": "奶奶", "place": "村里老家", "reach": "奶奶手机，晚上七点后方便接听",
                                 "safety": "不去水库和河边玩水；过马路看车；不碰电线。", "guardian_acknowledged": True,
                                 "guardian_name": "奶奶"},
                      "photos": [], "client": {"saved_at": (when + timedelta(minutes=20)).isoformat(), "online": True}})
    results = ingest(teacher, items, source="demo")
    from .models import Record
    from .verify.services import confirm

    handover = db.session.scalar(select(Record).where(Record.client_id == handover_id))
    if handover is not None and handover.confirm_state == "none":
        confirm(handover, member, True, "已与奶奶和村里核实假期安排")
        db.session.commit()
    _return_demo_visit(teacher, items[3]["id"])
    return sum(1 for r in results if r["status"] == "created")


def _return_demo_visit(teacher: User, client_id: str) -> None:
    """A returned record with its correction deadline: the principal sends the visit without a photo back."""
    from .models import Record
    from .verify.services import return_for_correction

    principal = db.session.scalar(select(User).where(User.role == "principal", User.school_id == teacher.school_id))
    bare = db.session.scalar(select(Record).where(Record.client_id == client_id))
    if principal is not None and bare is not None and bare.review_state == "received":
        return_for_correction(bare, principal, "没有照片。请补拍孩子家里的照片，或写明没有拍照的原因。")
        db.session.commit()


def seed_demo_submission(now: datetime | None = None):
    """Last month's report from the main school, submitted on time with two news items (one with a photo), so that
    bureau1 has one to open."""
    from .photos.services import save_upload
    from .reports.monthly import parse_month
    from .reports.submission import add_news, deadline, draft_for, submit

    now = now or datetime.now(CHINA)
    principal = db.session.scalar(select(User).where(User.username == "principal1"))
    if principal is None:
        return None
    month = parse_month(None, today=now.date())
    sub = draft_for(principal.school_id, month)
    if sub.state != "draft":
        return sub
    data = _demo_photo(5, None, None)
    photo = save_upload(principal, hashlib.sha256(data).hexdigest(), data).photo
    add_news(sub, principal, "开展“走进留守儿童家庭”家访月活动",
             "本月全校教师分组走访青山村、石桥村、柳溪村的留守儿童家庭，向监护人反馈孩子在校的学习和生活情况，"
             "了解家庭照料情况，并为每名孩子制定了下月的帮扶计划。", [photo])
    add_news(sub, principal, "“亲情电话”每周按时开通",
             "学校在德育处设立亲情电话，每周三下午组织留守儿童与在外务工的父母通话或视频，班主任做好记录。", [])
    submit(sub, principal, now=min(now, deadline(month) - timedelta(days=2)))
    db.session.commit()
    return sub
def seed_small_school_records(now: datetime | None = None) -> int:
    """This term's work in the two smaller schools, so the bureau's page shows differences: 石门乡小学 visited half its
    children (three confirmed by the village committee, one without a photo — flagged —, one returned) and talks
    with most; 柳林镇中心小学 has made a start (two visits, one confirmed, a few talks). Deterministic."""
    from .records.services import ingest
    from .verify.services import confirm, return_for_correction

    now = now or datetime.now(CHINA)
    day = now.replace(hour=15, minute=30, second=0, microsecond=0)
    plans = {"石门乡小学": {"visits": 8, "confirmed": 3, "talks": 12, "calls": 3},
             "柳林镇中心小学": {"visits": 2, "confirmed": 1, "talks": 4, "calls": 0}}
    # The calls that, with a visit and a talk, leave a child with nothing overdue: the child's own call with the
    # parents this week, the teacher's report to the mother this month, a meeting with the guardian this quarter.
    calls = [{"counterpart": "mother", "direction": "child_to_parents", "channel": "video"},
             {"counterpart": "mother", "direction": "teacher_to_family", "channel": "phone"},
             {"counterpart": "guardian", "direction": "teacher_to_family", "channel": "in_person"}]
    created = 0
    # Drawings whose hashes differ enough from each other and from the main school's (seeds 1-4): otherwise the
    # evidence checks rightly call them the same photo used twice.
    seeds = iter((101, 103, 105, 109, 118, 221, 335, 342))
    for school_name, plan in plans.items():
        school = db.session.scalar(select(School).where(School.name == school_name))
        if school is None:
            continue
        member = db.session.scalar(select(User).where(User.school_id == school.id, User.role == "committee"))
        principal = db.session.scalar(select(User).where(User.school_id == school.id, User.role == "principal"))
        kids = list(db.session.scalars(select(Child).where(Child.school_id == school.id).order_by(
            (Child.village_id != member.village_id), Child.id)))  # the committee's village first: it confirms those
        teacher_of = dict(db.session.execute(select(Pairing.child_id, Pairing.teacher_id).where(
            Pairing.child_id.in_([k.id for k in kids]), Pairing.responsible)).all())
        by_teacher: dict[int, list] = {}
        for n, child in enumerate(kids[:plan["visits"]]):
            when = day - timedelta(days=2 + 3 * n)
            village = db.session.get(Village, child.village_id)
            spot = (village.lat + 0.002, village.lon + 0.002)
            rng = random.Random(f"{school_name}{n}")
            photos = [] if n == plan["confirmed"] else [_upload_as(teacher_of[child.id], _demo_photo(
                next(seeds), when + timedelta(minutes=10), spot))]
            by_teacher.setdefault(teacher_of[child.id], []).append({
                "id": str(uuid.UUID(int=rng.getrandbits(128))), "kind": "home_visit", "child_id": child.id,
                "occurred_at": when.isoformat(timespec="seconds"), "photos": photos,
                "fields": {"purpose": "了解孩子在家学习和生活情况", "guardian_present": True, "met_person": "奶奶",
                           "met_relationship": "祖母", "told_guardian": "孩子在校表现稳定", "study_rating": "good",
                           "life_rating": "good", "psychology_rating": "good", "safety_rating": "good",
                           "follow_up": "每周谈心一次"},
                "location": {"lat": spot[0], "lon": spot[1], "accuracy_m": 25},
                "client": {"saved_at": (when + timedelta(minutes=30)).isoformat(), "online": False}})
        for n, child in enumerate(kids[:plan["talks"]]):
            when = day - timedelta(days=1 + n % 5, hours=5)
            by_teacher.setdefault(teacher_of[child.id], []).append({
                "id": str(uuid.UUID(int=random.Random(f"{school_name} talk {n}").getrandbits(128))), "kind": "talk",
                "child_id": child.id, "occurred_at": when.isoformat(timespec="seconds"), "photos": [],
                "fields": {"topic": "这周的学习和心情", "mood": "calm", "summary": "聊了学习和家里的情况。"},
                "client": {"saved_at": (when + timedelta(minutes=20)).isoformat(), "online": True}})
        for n, child in enumerate(kids[:plan["calls"]]):
            for m, call in enumerate(calls):
                when = now.replace(second=0, microsecond=0) - timedelta(minutes=30 + 10 * m)  # in the previous
                # period just after midnight on a Monday or the 1st: then it keeps the child from being overdue all the same
                by_teacher.setdefault(teacher_of[child.id], []).append({
                    "id": str(uuid.UUID(int=random.Random(f"{school_name} call {n} {m}").getrandbits(128))),
                    "kind": "contact", "child_id": child.id, "occurred_at": when.isoformat(timespec="seconds"),
                    "photos": [], "fields": {**call, "duration_min": 10, "summary": "聊了孩子这周的情况。"},
                    "client": {"saved_at": (when + timedelta(minutes=15)).isoformat(), "online": True}})
        visit_ids = []
        for teacher_id, items in by_teacher.items():
            results = ingest(db.session.get(User, teacher_id), items, source="demo")
            created += sum(1 for r in results if r["status"] == "created")
            visit_ids += [i["id"] for i in items if i["kind"] == "home_visit"]
        db.session.commit()
        visits = {r.client_id: r for r in db.session.scalars(select(Record).where(Record.client_id.in_(visit_ids)))}
        ordered = [visits[i] for i in sorted(visit_ids, key=lambda i: visits[i].occurred_at, reverse=True)]
        for r in ordered[:plan["confirmed"]]:
            if r.confirm_state == "none":
                confirm(r, member, True, "已到村里核实")
        last = ordered[-1]
        if len(ordered) > plan["confirmed"] + 1 and last.review_state == "received":
            return_for_correction(last, principal, "记录太简单，请补充孩子在家的具体情况。")
        db.session.commit()
    return created


def _upload_as(user_id: int, data: bytes) -> str:
    """Store a demo photo as the user's upload; its sha256 names it in a record."""
    from .photos.services import save_upload

    sha = hashlib.sha256(data).hexdigest()
    save_upload(db.session.get(User, user_id), sha, data)
    return sha
