# Shared by setup/run and setup/test: prepares a machine idempotently.
# Sourced, not executed. Every step says what is missing when it cannot go on.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo}"
VENV="${VENV:-$REPO/.venv}"
STATE_DIR="$REPO/.odoo"
PY="$VENV/bin/python"
QUEUE_JOB_VERSION="18.0.4.1.2.2"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

check_odoo_source() {
    [ -f "$ODOO_SRC/odoo-bin" ] && [ -d "$ODOO_SRC/odoo/addons/base" ] || die \
        "No Odoo 18.0 source tree at ODOO_SRC=$ODOO_SRC. Clone it (git clone --depth 1 -b 18.0 https://github.com/odoo/odoo \"\$ODOO_SRC\") or point ODOO_SRC at an existing checkout."
    grep -q "18, 0" "$ODOO_SRC/odoo/release.py" || die "ODOO_SRC=$ODOO_SRC is not Odoo 18.0 (see its odoo/release.py)."
}

# pip, without the notes about this machine's missing local package folders.
pip_quiet() { "$PY" -m pip -q "$@" 2> >(grep -v "^WARNING: Location" >&2); }

python_env() {
    local base
    base="$(command -v python3.11 || command -v python3.12 || command -v python3 || true)"
    [ -n "$base" ] || die "Python 3.11 or 3.12 is needed (apt-get install python3 python3-venv)."
    "$base" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' \
        || die "$base is not Python 3.11 or 3.12, which Odoo 18.0 needs."
    [ -x "$PY" ] || "$base" -m venv "$VENV" || die "Cannot create a virtualenv (apt-get install python3-venv)."
    # Reinstall only when a requirements file changed since the last successful install.
    local stamp="$VENV/.integration-hub-requirements" want
    want="$(cat "$REPO/setup/requirements-odoo.txt" "$REPO/requirements.txt" | sha256sum | cut -d' ' -f1)-$QUEUE_JOB_VERSION"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python packages into $VENV"
        pip_quiet install --upgrade pip wheel
        pip_quiet install -r "$REPO/setup/requirements-odoo.txt" -r "$REPO/requirements.txt" \
            || die "pip could not install the requirements (is PyPI reachable? see above)."
        # queue_job declares a dependency on an 'odoo' distribution we take from ODOO_SRC instead.
        pip_quiet install --no-deps "odoo-addon-queue_job==$QUEUE_JOB_VERSION" \
            || die "pip could not install odoo-addon-queue_job==$QUEUE_JOB_VERSION."
        echo "$want" > "$stamp"
    fi
    # Odoo importable from the venv (for the tests' tools), found through ODOO_SRC.
    "$PY" -c 'import site; print(site.getsitepackages()[0])' | {
        read -r site; echo "$ODOO_SRC" > "$site/odoo-src.pth"; }
}

queue_job_path() {
    "$PY" - <<'PY'
import site, os
for path in site.getsitepackages():
    candidate = os.path.join(path, "odoo", "addons")
    if os.path.isdir(os.path.join(candidate, "queue_job")):
        print(candidate)
        break
PY
}

ensure_postgres() {
    if ! command -v pg_isready >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed. As root: apt-get install -y postgresql, then run this again."
        say "installing PostgreSQL from Debian"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
            || die "apt-get could not install postgresql."
    fi
    if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
        if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then
            say "starting PostgreSQL"
            local version
            version="$(ls /etc/postgresql | sort -V | tail -1)"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
            for _ in $(seq 20); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 0.5; done
        fi
        pg_isready -q -h "$PGHOST" -p "$PGPORT" || die \
            "PostgreSQL is not answering at $PGHOST:$PGPORT. Start it (pg_ctlcluster 15 main start) or set PGHOST/PGPORT."
    fi
    # Odoo refuses to run as 'postgres': use the current user's role, created with
    # CREATEDB through the postgres superuser if it is missing or may not create databases.
    export PGUSER="${PGUSER:-$(id -un)}"
    [ "$PGUSER" != postgres ] || export PGUSER=odoo
    if [ "$(pg_query "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")" != t ]; then
        say "creating PostgreSQL role $PGUSER (CREATEDB) through the postgres role"
        local sql="DO \$\$BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PGUSER') THEN CREATE ROLE \"$PGUSER\" LOGIN; END IF;
            ALTER ROLE \"$PGUSER\" CREATEDB; END\$\$"
        # A fresh Debian install lets only the postgres OS user in, over the local socket.
        if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- env -u PGHOST -u PGUSER psql -d postgres -qc "$sql"
        else
            psql -U postgres -d postgres -qc "$sql"
        fi || die "Cannot reach PostgreSQL as postgres to create role $PGUSER. As the postgres user run: createuser --createdb $PGUSER"
    fi
    # TCP without a password is refused on a fresh install: the local socket then serves.
    if ! psql -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
        PGHOST="" psql -d postgres -tAc "SELECT 1" >/dev/null 2>&1 \
            || die "PostgreSQL refuses role $PGUSER at $PGHOST:$PGPORT and on the local socket (check pg_hba.conf)."
        say "using PostgreSQL's local socket (TCP at $PGHOST asks for a password)"
        export PGHOST=""
    fi
}

ensure_haproxy() {
    command -v haproxy >/dev/null 2>&1 && return
    [ "$(id -u)" = 0 ] || die "HAProxy is not installed. As root: apt-get install -y haproxy, then run this again."
    say "installing HAProxy from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null \
        || die "apt-get could not install haproxy."
}

# pg_query SQL: the answer of the postgres database, empty when it cannot be asked.
pg_query() {
    psql -d postgres -tAc "$1" 2>/dev/null \
        || PGHOST="" psql -d postgres -tAc "$1" 2>/dev/null || true
}

# write_config FILE DBNAME HTTP_PORT WORKERS: an Odoo configuration for this checkout
# (with the HL7 MLLP listener on $MLLP_PORT when it is set).
write_config() {
    local file="$1" db="$2" port="$3" workers="$4" key
    mkdir -p "$STATE_DIR"
    # The encryption key is generated once per checkout and kept: secrets stay readable.
    if [ ! -s "$STATE_DIR/encryption.key" ]; then
        "$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' \
            > "$STATE_DIR/encryption.key"
        chmod 600 "$STATE_DIR/encryption.key"
    fi
    key="$(cat "$STATE_DIR/encryption.key")"
    cat > "$file" <<CONF
[options]
addons_path = $ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$(queue_job_path),$REPO/addons
data_dir = $STATE_DIR/data
db_host = $PGHOST
db_port = $PGPORT
db_user = $PGUSER
db_password = False
; One database and no dbfilter: webhook requests carry no session cookie, and with a
; dbfilter Odoo opens a new PostgreSQL connection for each of them (see README).
db_name = $db
list_db = False
http_interface = 127.0.0.1
http_port = $port
gevent_port = $((port + 3))
workers = $workers
max_cron_threads = 1
; integration_hub server-wide: its routes answer 503 JSON while PostgreSQL is away;
; integration_hub_hl7 starts its MLLP listener with the server, as queue_job its runner.
server_wide_modules = base,web,queue_job,integration_hub,integration_hub_hl7
proxy_mode = False
log_level = info
integration_hub_encryption_key = $key
${MLLP_PORT:+integration_hub_mllp_port = $MLLP_PORT}

[queue_job]
channels = root:2,root.integration:2,root.integration_critical:1
scheme = http
host = 127.0.0.1
port = $port
CONF
}

# addon_list: every addon of this repository, comma-separated.
addon_list() {
    find "$REPO/addons" -mindepth 2 -maxdepth 2 -name __manifest__.py -printf '%h\n' \
        | xargs -n1 basename | sort | paste -sd, -
}

prepare() {
    check_odoo_source
    python_env
    ensure_postgres
}

# export_pots CONF DB OUTDIR: each addon's translation template, as Odoo's exporter
# (--i18n-export) writes it, to OUTDIR/<addon>/i18n/<addon>.pot; DB must have every
# addon installed, demo data included (demo records carry terms too). One Odoo
# process for all addons instead of one --i18n-export per addon. Fails when the
# exporter could not read a file (its terms would silently be missing).
export_pots() {
    local conf db="$2" out log
    conf="$(realpath "$1")" out="$(realpath -m "$3")" log="$(mktemp)"
    (cd "$ODOO_SRC" && I18N_ADDONS="$(addon_list)" I18N_OUT="$out" \
        "$PY" odoo-bin shell -c "$conf" -d "$db" --no-http --log-level=warn >"$log" 2>&1) <<'PY'
import os
from odoo.tools.translate import trans_export

for addon in os.environ["I18N_ADDONS"].split(","):
    folder = os.path.join(os.environ["I18N_OUT"], addon, "i18n")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{addon}.pot"), "wb") as pot:
        trans_export(None, [addon], pot, "po", env.cr)
print("EXPORTED")
PY
    if ! grep -q "^EXPORTED" "$log" || grep -qE " (ERROR|CRITICAL) " "$log"; then
        grep -vE "^(EXPORTED|Running as user)" "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# stale_pots OUTDIR: the addons whose i18n/<addon>.pot differs from OUTDIR's, header
# dates aside.
stale_pots() {
    local out="$1" addon
    for addon in $(addon_list | tr , ' '); do
        diff -q -I '^"POT-Creation-Date: ' -I '^"PO-Revision-Date: ' \
            "$REPO/addons/$addon/i18n/$addon.pot" "$out/$addon/i18n/$addon.pot" \
            >/dev/null 2>&1 || echo "$addon"
    done
}
