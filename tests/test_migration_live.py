"""A database made by the addons before the core's unmapped codes (main at 592d5d3)
updates with today's addons, and its open exceptions are still mapped and retried.

Real processes throughout: the old addons come out of this repository's git history
(`git archive`), install on a database of their own, open their exceptions the old
way (billing's and supply's own fields); today's addons update that database as
setup/run does, then a billing clerk and a stock user map the codes with the one
wizard and the messages' jobs run. The steps inside Odoo are in migration_shell.py.
"""

import configparser
import json
import os
import pathlib
import subprocess

import live_odoo
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
OLD_COMMIT = "592d5d3"  # main before the core's unmapped codes, binder and waiting
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo")
PYTHON = os.environ.get("INTEGRATION_HUB_PYTHON", "python3")


def _old_addons(tmp_path):
    """The addons of OLD_COMMIT, taken from the git history into ``tmp_path``."""
    try:
        known = subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{OLD_COMMIT}^{{commit}}"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.fail("The migration test needs git (apt-get install git) and this clone's history.")
    if known.returncode:
        pytest.fail(
            f"The migration test needs commit {OLD_COMMIT} of this repository's history, "
            f"which {REPO} lacks (a shallow clone?): run `git fetch --unshallow` "
            f"(or clone without --depth) and run the tests again."
        )
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", OLD_COMMIT, "addons"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True)
    return tmp_path / "addons"


def _config(tmp_path, name, db, addons):
    """The suite's configuration with ``addons`` in place of today's addons folder."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(os.environ["INTEGRATION_HUB_CONF_TEMPLATE"])
    options = config["options"]
    paths = [
        path
        for path in options["addons_path"].split(",")
        if pathlib.Path(path).resolve() != (REPO / "addons").resolve()
    ]
    options["addons_path"] = ",".join([*paths, str(addons)])
    options["db_name"] = db
    options["http_port"] = str(live_odoo.free_port())
    # No server: nothing to load with it (the old addons had no HL7 listener).
    options["server_wide_modules"] = "base,web"
    options["log_level"] = "warn"
    conf = tmp_path / name
    with conf.open("w") as handle:
        config.write(handle)
    return str(conf)


def _odoo(conf, db, *args, command=(), stdin=None):
    """Run odoo-bin; fail the test with its output when it fails or logs an error."""
    done = subprocess.run(
        [PYTHON, "odoo-bin", *command, "-c", conf, "-d", db, *args],
        cwd=ODOO_SRC,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    errors = [line for line in output.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert done.returncode == 0 and not errors, f"odoo-bin {' '.join(args)}:\n{output[-6000:]}"
    return output


def _shell(conf, db, function, *args):
    """Run migration_shell.``function`` in `odoo-bin shell`, commit, return its answer."""
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(REPO / 'tests')!r})\n"
        "import migration_shell\n"
        f"answer = migration_shell.{function}(env, *{args!r})\n"
        "env.cr.commit()\n"
        "print('ANSWER ' + json.dumps(answer))\n"
    )
    output = _odoo(conf, db, "--no-http", command=["shell"], stdin=script)
    answers = [line[len("ANSWER ") :] for line in output.splitlines() if line.startswith("ANSWER ")]
    assert answers, f"migration_shell.{function} did not answer:\n{output[-6000:]}"
    return json.loads(answers[-1])


@pytest.fixture
def migration_db():
    db = f"{os.environ['INTEGRATION_HUB_TEST_DB']}_migration"
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    yield db
    subprocess.run(["dropdb", "--if-exists", db], check=False)


def test_database_of_592d5d3_updates_and_its_unmapped_codes_are_mapped_and_retried(
    tmp_path, migration_db
):
    old_conf = _config(tmp_path, "old.conf", migration_db, _old_addons(tmp_path))
    new_conf = _config(tmp_path, "new.conf", migration_db, REPO / "addons")
    _odoo(
        old_conf,
        migration_db,
        "-i",
        "integration_hub_billing,integration_hub_supply",
        "--without-demo=all",
        "--stop-after-init",
        "--workers=0",
    )
    old = _shell(old_conf, migration_db, "create_old_exceptions")
    charge_id, charge_state, (charge_exception,) = old["charge"]
    consumption_id, consumption_state, (consumption_exception,) = old["consumption"]
    assert (charge_state, consumption_state) == ("exception", "exception"), old
    del charge_exception["id"], consumption_exception["id"]
    assert charge_exception == {
        "kind": "unmapped_code",
        "unmapped_code_kind": "service",
        "unmapped_code": "99299-MIG",
        "code_kind": False,
        "external_code": False,
    }
    assert consumption_exception == {
        "kind": "unmapped_code",
        "unmapped_code_kind": "item",
        "unmapped_code": "SKU-MIGRATION",
        "code_kind": "item",
        "external_code": "SKU-MIGRATION",
    }

    # Updated as setup/run updates (-u): our addons, and with them all that depend on
    # them. (setup/run also installs the flows added since; that changes nothing here.)
    _odoo(new_conf, migration_db, "-u", "integration_hub", "--stop-after-init", "--workers=0")
    new = _shell(new_conf, migration_db, "map_and_retry", charge_id, consumption_id)

    # The exceptions came through with the core's code kind and code, and are named
    # by the business reference their messages got from the payload.
    assert new["before"] == {
        str(charge_id): [
            "exception",
            "CHG-MIG · charge.captured",
            [
                [
                    "Unmapped code: CHG-MIG · charge.captured",
                    "unmapped_code",
                    "service",
                    "99299-MIG",
                    "open",
                ]
            ],
        ],
        str(consumption_id): [
            "exception",
            "CON-MIG · supply.consumed",
            [
                [
                    "Unmapped code: CON-MIG · supply.consumed",
                    "unmapped_code",
                    "item",
                    "SKU-MIGRATION",
                    "open",
                ]
            ],
        ],
    }
    # Mapping queued each message again; its job then processed it.
    assert new[f"queued {charge_id}"] == new[f"queued {consumption_id}"] == "queued"
    assert new["after"] == {
        str(charge_id): ["done", "", [["resolved", "migration-clerk"]], "integration.charge"],
        str(consumption_id): [
            "done",
            "",
            [["resolved", "migration-stock"]],
            "integration.supply.consumption",
        ],
    }
    # The charge's invoices (patient's and payer's shares) were posted.
    assert new["invoice_states"] == ["posted", "posted"]
