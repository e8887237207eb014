#!/usr/bin/env bash
# Installs the Debian packages the test suite runs against: real services, not fakes.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
# The browser tests drive Debian's chromium (never a downloaded build); the console must show
# Chinese text and the emoji that evasions are made of (➕V, 💰) as real glyphs, not boxes.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || need+=(fonts-noto-color-emoji)
# The daily report test turns the PDF into page images (pdftoppm) to check they are not blank.
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-system: root is needed to install: ${need[*]}" >&2
  exit 1
fi
echo "install-system: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
