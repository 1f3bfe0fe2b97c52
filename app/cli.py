"""Flask commands: seed-demo, county-figures, send-reminders, create-user, deactivate-user, import-roster, rebuild-tallies, housekeeping,
banner."""
import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import COUNTY_ROLES, ROLES, County, School, User, Village


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database holds no school yet.")
    def seed_demo_cmd(if_empty):
        """Load the demo school, accounts and children (demo only)."""
        from .demo import is_empty, seed_demo, seed_demo_records, seed_demo_submission, seed_small_school_records

        if if_empty and not is_empty():
            click.echo("database already has data; demo not loaded")
            return
        school = seed_demo()
        n = seed_demo_records() + seed_small_school_records()
        seed_demo_submission()
        click.echo(f"demo data loaded: school #{school.id}, {n} records")

    @app.cli.command("county-figures")
    def county_figures():
        """Count every school's figures for the bureau's county page again. Run it from cron every 5-10 min."""
        import time

        from .clock import today_local
        from .duties.county import refresh

        started, today = time.perf_counter(), today_local()
        ids = list(db.session.scalars(select(School.id).order_by(School.id)))
        for sid in ids:
            refresh(sid, today)
            db.session.commit()  # one school at a time: the page reads the others meanwhile
        click.echo(f"{len(ids)} schools counted in {time.perf_counter() - started:.1f} s")

    @app.cli.command("send-reminders")
    @click.option("--now", "now_s", default=None, help="Pretend it is this ISO time (for trying it out).")
    def send_reminders(now_s):
        """Make due reminders, escalate emergencies, push what is new. Idempotent: run it from cron every 5 min."""
        from .clock import parse_local_time
        from .notify.reminders import run

        now = parse_local_time(now_s, naive=None) if now_s else None
        if now_s and now is None:
            raise click.UsageError("--now needs an ISO time with a time zone, e.g. 2026-11-23T08:00:00+08:00")
        click.echo(" ".join(f"{k}={v}" for k, v in run(now).items()))

    @app.cli.command("rebuild-tallies")
    def rebuild_tallies():
        """Recompute every child's duty tally from the records (after editing records by hand, or a bulk load)."""
        from sqlalchemy import func

        from .duties import tally
        from .models import DutyTally

        tally.rebuild(db.session.connection())
        db.session.commit()
        click.echo(f"duty tally rebuilt: {db.session.scalar(select(func.count()).select_from(DutyTally))} children")

    @app.cli.command("create-user")
    @click.option("--username", prompt=True)
    @click.option("--name", prompt=True)
    @click.option("--role", type=click.Choice(ROLES), prompt=True)
    @click.option("--school", "school_name", default="", help="School name (created if missing); not for bureau roles.")
    @click.option("--county", "county_name", default="本县", show_default=True, help="County (created if missing).")
    @click.option("--village", "village_name", default=None, help="Committee members: their village.")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create_user(username, name, role, school_name, county_name, village_name, password):
        """Create a staff account (the first bureau administrator; later accounts are made in the app)."""
        from .auth.passwords import password_problems

        problems = password_problems(password, username)
        if problems:
            raise click.UsageError(" ".join(problems))
        if db.session.scalar(select(User).where(User.username == username.lower())):
            raise click.UsageError(f"user {username} exists")
        county = db.session.scalar(select(County).where(County.name == county_name))
        if county is None:
            county = County(name=county_name)
            db.session.add(county)
            db.session.flush()
        if role in COUNTY_ROLES:
            user = User(username=username.lower(), name=name, role=role, county_id=county.id)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            click.echo(f"created {role} {username} (#{user.id})")
            return
        if not school_name:
            raise click.UsageError("a school account needs --school")
        school = db.session.scalar(select(School).where(School.name == school_name))
        if school is None:
            school = School(name=school_name, county_id=county.id)
            db.session.add(school)
            db.session.flush()
        village = None
        if role == "committee":
            if not village_name:
                raise click.UsageError("a committee member needs --village")
            village = db.session.scalar(select(Village).where(Village.school_id == school.id, Village.name == village_name))
            if village is None:
                village = Village(school_id=school.id, name=village_name)
                db.session.add(village)
                db.session.flush()
        user = User(username=username.lower(), name=name, role=role, school_id=school.id, village_id=village.id if village else None)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"created {role} {username} (#{user.id})")

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user(username):
        """Close a staff account: it cannot log in, and every session it has ends now."""
        from .audit import audit
        from .auth.services import end_all_sessions

        user = db.session.scalar(select(User).where(User.username == username.lower()))
        if user is None:
            raise click.UsageError(f"no user named {username}")
        user.active = False
        end_all_sessions(user)
        audit("deactivated", "user", user.id)
        db.session.commit()
        click.echo(f"deactivated {user.username} (#{user.id}); its sessions are ended")

    @app.cli.command("import-roster")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--principal", "username", required=True, help="The principal account the import is made as.")
    def import_roster_cmd(path, username):
        """Import a roster (.xlsx or .csv) into the principal's school; prints each bad row."""
        from pathlib import Path

        from .children.importer import UnreadableFile, import_file

        user = db.session.scalar(select(User).where(User.username == username.lower(), User.role == "principal"))
        if user is None:
            raise click.UsageError(f"no principal named {username}")
        try:
            with open(path, "rb") as f:  # past the byte limit, read no more than is needed to refuse the file
                data = f.read(app.config["ROSTER_IMPORT_MAX_BYTES"] + 1)
            result = import_file(user.school_id, user, Path(path).name, data,
                                 app.config["ROSTER_IMPORT_MAX_ROWS"])
        except UnreadableFile as e:
            raise click.ClickException(str(e)) from None
        for e in result.errors:
            click.echo(f"row {e.row}: {e.reason}")
        click.echo(f"created {result.created}, updated {result.updated}, rejected {len(result.errors)}")

    @app.cli.command("housekeeping")
    def housekeeping():
        """Remove uploads no record listed within a week, stale temporary files, unfinished uploads older than a day and old
        wrong-code counts (daily cron)."""
        from .clock import today_local
        from .photos.quota import housekeep
        from .verify.services import prune_code_attempts

        n = housekeep()
        codes = prune_code_attempts(today_local())
        db.session.commit()
        click.echo(f"removed {n['photos']} unlinked photos ({n['files']} files, {n['bytes'] / 2**20:.1f} MB), "
                   f"{n['temp_files']} temporary files, {n['partials']} unfinished uploads, {codes} old wrong-code counts")

    @app.cli.command("banner")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=5000, type=int)
    def banner(host, port):
        """Print the URL and the demo logins."""
        from .demo import COUNTY_ACCOUNTS, DEMO_ACCOUNTS, DEMO_PASSWORD, SMALL_SCHOOLS

        click.echo("")
        click.echo(f"  家访通 is starting on http://{host}:{port}/")
        # (username, name, role, village, where): the main school's staff, the county's, the smaller schools'.
        listed = [(*a, "红岩乡中心小学") for a in DEMO_ACCOUNTS] + [(u, n, r, None, "青溪县教育局") for u, n, r in COUNTY_ACCOUNTS]
        listed += [(*a, school) for school, _h, _v, accounts, _n in SMALL_SCHOOLS for a in accounts]
        have = set(db.session.scalars(select(User.username).where(User.username.in_([a[0] for a in listed]))))
        if have:
            click.echo(f"  Demo logins (DEMO ONLY, password {DEMO_PASSWORD}):")
            for username, name, role, village, where in listed:
                if username in have:
                    click.echo(f"    {username:<13} {role:<12} {name} · {where}" + (f" ({village})" if village else ""))
        click.echo("")
