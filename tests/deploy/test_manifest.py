"""app.json, the Procfile and the README's deploy section say the same thing."""

from __future__ import annotations

import json

from tests.deploy import readme

MANIFEST = json.loads((readme.ROOT / "app.json").read_text())
PROCFILE = readme.procfile()


def test_the_procfile_has_web_worker_and_release():
    assert PROCFILE == {
        "web": "gunicorn -c gunicorn.conf.py",
        "worker": "python manage.py worker",
        "release": "python manage.py migrate --noinput",
    }


def test_the_formation_runs_every_long_lived_process_of_the_procfile():
    assert set(MANIFEST["formation"]) == set(PROCFILE) - {"release"}


def test_the_manifest_releases_with_the_procfile_command():
    assert MANIFEST["scripts"]["dokku"]["predeploy"] == PROCFILE["release"]


def test_the_secret_key_is_generated_and_the_service_required():
    env = MANIFEST["env"]
    assert env["SECRET_KEY"] == {
        "description": env["SECRET_KEY"]["description"],
        "generator": "secret",
    }
    assert env["SERVICE"]["required"] is True
    assert not any("value" in spec for spec in env.values())  # nothing secret has a default


def test_every_app_gets_its_database_and_the_gateway_redis():
    plans = {addon["plan"] for addon in MANIFEST["addons"]}
    assert {"heroku-postgresql", "heroku-redis"} <= plans
    apps = readme.config_vars()
    assert all("DATABASE_URL" in names for names in apps.values())
    assert "REDIS_URL" in apps["gateway"]


def test_the_manifest_asks_for_exactly_the_vars_the_readme_lists():
    listed = set().union(*map(set, readme.config_vars().values())) - readme.ADD_ON_VARS

    assert set(MANIFEST["env"]) == listed


def test_the_readme_lists_each_app_with_its_service_name():
    apps = readme.config_vars()

    assert set(apps) == {"faq", "tickets", "billing", "gateway"}
    assert {app: names["SERVICE"] for app, names in apps.items()} == {app: app for app in apps}


def test_every_deploy_var_is_in_the_variables_table():
    listed = set().union(*map(set, readme.config_vars().values()))

    assert listed - readme.variables_table() == set()


def test_the_readme_process_table_is_the_procfile():
    text = readme.text()
    for process, command in PROCFILE.items():
        assert f"| `{process}` | `{command}` |" in text
