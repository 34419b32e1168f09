#!/usr/bin/env bash
# Backup: the database and every file the database points to, into one new folder.
#   scripts/backup.sh /srv/backup/vendorportal-$(date +%F-%H%M)
# Writes  db.dump (PostgreSQL, pg_dump custom format) or db.sqlite3 (SQLite online backup),
#         documents.tar.gz (MEDIA_ROOT: invoices, corrections, delivery notes, reports),
#         attachments.tar.gz (support ticket attachments), keys.tar.gz (licence signing key),
#         SHA256SUMS.
# Runs while the portal runs: pg_dump and SQLite's backup API read a consistent snapshot. Take
# the database first and the files second: a document issued in between is then a file
# without a row (harmless), never a row without its file. See docs/operations.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:?usage: scripts/backup.sh TARGET_FOLDER}
[ -e "$OUT" ] && { echo "backup: $OUT exists already; give a new folder" >&2; exit 2; }
source scripts/_settings.sh
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

case "$DB_ENGINE" in
  postgresql)
    pg_tool pg_dump --format=custom --no-owner --no-privileges --file "$OUT/db.dump" "$DB_NAME" ;;
  sqlite3)
    "$PY" -c 'import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2])
with dst: src.backup(dst)
dst.close(); src.close()' "$DB_NAME" "$OUT/db.sqlite3" ;;
  *) echo "backup: database engine $DB_ENGINE is not supported" >&2; exit 2 ;;
esac

archive() {  # archive NAME FOLDER — an empty archive when the folder does not exist yet
  if [ -d "$2" ]; then tar -C "$2" -czf "$OUT/$1" .; else tar -czf "$OUT/$1" -T /dev/null; fi
}
archive documents.tar.gz "$MEDIA_DIR"
archive attachments.tar.gz "$ATTACHMENTS_DIR"
keys=$(mktemp -d)
[ -f "$SIGNING_KEY" ] && cp -p "$SIGNING_KEY" "$keys/license-signing.pem"
[ -d "$PUBLIC_KEYS_DIR" ] && cp -rp "$PUBLIC_KEYS_DIR" "$keys/public"
tar -C "$keys" -czf "$OUT/keys.tar.gz" . && rm -rf "$keys"
chmod 600 "$OUT/keys.tar.gz"
(cd "$OUT" && sha256sum -- * > SHA256SUMS)
echo "backup written to $OUT"
