#!/usr/bin/env bash
# Installs the Debian packages the portal needs when they are missing (as root, with apt).
# WeasyPrint: Pango and HarfBuzz (libharfbuzz-subset0 makes font subsetting 2.5x faster),
# fonts for the documents; chromium for the browser tests (Playwright drives it, issue 12);
# python3-venv where Debian's Python lacks ensurepip; dovecot-imapd for the mail tests
# (issue 17: support/tests/mailservers.py starts its own Dovecot on 127.0.0.1); a JDK 17 or newer
# for the Java licence verifier (issue 21: `make java`, checked against Python's in `make test`) —
# Debian's default-jdk-headless (OpenJDK 17 on Debian 12, 21 on Debian 13) where no javac is there.
# gettext: msgfmt compiles the English catalogue (issue 21, `make messages`).
# Extra packages can be passed as arguments (CI adds postgresql and redis-server).
# No service is started by the install: the tests and CI start the servers they need.
set -euo pipefail
wanted=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium dovecot-imapd gettext "$@")
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
java_release=$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p' || true)
[ "${java_release:-0}" -ge 17 ] 2>/dev/null || missing+=(default-jdk-headless)
py=${PYTHON:-python3}
if ! "$py" -c "import ensurepip, venv" >/dev/null 2>&1; then
  ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  missing+=("python${ver}-venv")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101: Debian's maintainer scripts leave services (dovecot on 143/993) stopped.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
rc=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
[ "$own_policy" = 1 ] && rm -f "$policy"
# Dovecot is only for the tests (they start their own); one installed here stays off at boot.
if [ "$rc" = 0 ] && [[ " ${missing[*]} " == *" dovecot-imapd "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
fi
exit "$rc"
