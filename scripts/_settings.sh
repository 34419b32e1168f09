# Sourced by backup.sh / restore.sh: the database and folders as Django resolves them
# (environment, .env file, embedded defaults) — never a second parser of DATABASE_URL.
PY=${PY:-.venv/bin/python}
eval "$("$PY" - <<'PYEOF'
import os
import shlex

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vendorportal.settings")
django.setup()
from django.conf import settings

db = settings.DATABASES["default"]
values = {
    "DB_ENGINE": db["ENGINE"].rsplit(".", 1)[-1],
    "DB_NAME": str(db["NAME"]),
    "DB_HOST": str(db.get("HOST") or ""),
    "DB_PORT": str(db.get("PORT") or ""),
    "DB_USER": str(db.get("USER") or ""),
    "DB_PASSWORD": str(db.get("PASSWORD") or ""),
    "MEDIA_DIR": str(settings.MEDIA_ROOT),
    "ATTACHMENTS_DIR": str(settings.SUPPORT_ATTACHMENTS_ROOT),
    "SIGNING_KEY": str(settings.LICENSE_SIGNING_KEY_FILE),
    "PUBLIC_KEYS_DIR": str(settings.LICENSE_PUBLIC_KEYS_DIR),
}
for name, value in values.items():
    print(f"{name}={shlex.quote(value)}")
PYEOF
)"

pg_tool() {  # pg_tool pg_dump|pg_restore ARGS… — the newest installed client, the settings' server
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=$DB_USER PGPASSWORD=$DB_PASSWORD \
    "${bin:+$bin/}$1" "${@:2}"
}
