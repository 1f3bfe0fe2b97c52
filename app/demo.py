"""Demo data: one school, three villages, about 40 children. Demo only — the password is public."""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import func, select

from .children.services import create_child, save_guardian, set_pairings
from .extensions import db
from .models import Child, School, User, Village

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
    """Create the demo school with its accounts and children (deterministic)."""
    rng = random.Random(rng_seed)
    school = School(name="红岩乡中心小学", hotline="0856-5221234")
    db.session.add(school)
    villages = {name: Village(school=school, name=name, lat=lat, lon=lon) for name, lat, lon in VILLAGES}
    db.session.add_all(villages.values())
    db.session.flush()
    users = {}
    for username, name, role, village in DEMO_ACCOUNTS:
        u = User(username=username, name=name, role=role, school_id=school.id, phone=_phone(rng),
                 village_id=villages[village].id if village else None)
        u.set_password(DEMO_PASSWORD)
        users[username] = u
    db.session.add_all(users.values())
    db.session.flush()
    teachers = [users["teacher1"], users["teacher2"], users["teacher3"]]
    vlist = list(villages.values())
    for i in range(n_children):
        surname = rng.choice(SURNAMES)
        sex = rng.choice(["male", "female"])
        name = surname + rng.choice(BOY if sex == "male" else GIRL)
        g = i % 6
        birth = date(2020 - g - rng.randint(0, 1), rng.randint(1, 12), rng.randint(1, 28))
        village = vlist[i % 3]
        away = rng.choice(["both", "both", "father", "mother"])
        grandma = surname if rng.random() < 0.7 else rng.choice(SURNAMES)
        child_data = {
            "student_no": f"2026{i + 1:04d}", "name": name, "sex": sex, "birth_date": birth,
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
        teacher = teachers[min(i * 3 // n_children, 2)]
        set_pairings(child, [teacher.id], teacher.id, None)
    db.session.commit()
    return school


def is_empty() -> bool:
    """True when the database holds no school yet."""
    return (db.session.scalar(select(func.count()).select_from(School)) or 0) == 0 and not db.session.scalar(select(func.count()).select_from(Child))
