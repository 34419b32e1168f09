#!/usr/bin/env bash
# Restore a backup of scripts/backup.sh into the database and folders the settings name
# (DATABASE_URL, MEDIA_ROOT, SUPPORT_ATTACHMENTS_ROOT, LICENSE_SIGNING_KEY_FILE …), which must
# be new: an empty PostgreSQL database, a SQLite file and folders that do not exist yet.
# Then `manage.py check_documents` proves every issued document came back unchanged.
#   scripts/restore.sh /srv/backup/vendorportal-2026-12-06-0300
# Stop web, workers and beat first; start them after the check passed. See docs/operations.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IN=${1:?usage: scripts/restore.sh BACKUP_FOLDER}
IN=$(cd "$IN" && pwd)
(cd "$IN" && sha256sum --quiet -c SHA256SUMS) || { echo "restore: the backup's checksums do not match" >&2; exit 2; }
source scripts/_settings.sh

for dir in "$MEDIA_DIR" "$ATTACHMENTS_DIR"; do
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    echo "restore: $dir is not empty; restore into a new folder" >&2; exit 2
  fi
done

case "$DB_ENGINE" in
  postgresql)
    pg_tool pg_restore --no-owner --no-privileges --exit-on-error --dbname "$DB_NAME" "$IN/db.dump" ;;
  sqlite3)
    [ -s "$DB_NAME" ] && { echo "restore: $DB_NAME exists; restore into a new file" >&2; exit 2; }
    mkdir -p "$(dirname "$DB_NAME")"
    "$PY" -c 'import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2])
with dst: src.backup(dst)
dst.close(); src.close()' "$IN/db.sqlite3" "$DB_NAME" ;;
  *) echo "restore: database engine $DB_ENGINE is not supported" >&2; exit 2 ;;
esac

mkdir -p "$MEDIA_DIR" "$ATTACHMENTS_DIR"
tar -C "$MEDIA_DIR" -xzf "$IN/documents.tar.gz"
tar -C "$ATTACHMENTS_DIR" -xzf "$IN/attachments.tar.gz"
keys=$(mktemp -d)
tar -C "$keys" -xzf "$IN/keys.tar.gz"
if [ -f "$keys/license-signing.pem" ] && [ ! -e "$SIGNING_KEY" ]; then
  mkdir -p "$(dirname "$SIGNING_KEY")" && cp -p "$keys/license-signing.pem" "$SIGNING_KEY" && chmod 600 "$SIGNING_KEY"
fi
if [ -d "$keys/public" ]; then mkdir -p "$PUBLIC_KEYS_DIR" && cp -rpn "$keys/public/." "$PUBLIC_KEYS_DIR/"; fi
rm -rf "$keys"

"$PY" manage.py migrate --noinput -v0   # a backup of an older release: its later migrations
"$PY" manage.py check_documents
