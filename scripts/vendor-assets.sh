#!/usr/bin/env bash
# Fetches the console's vendored front-end assets from the npm registry (by package name and
# exact version) into api/console/static/vendor/<package>/, each with its licence file.
# Idempotent: a package whose files are already there is left alone. Needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=api/console/static/vendor
# package@version  files to keep (relative to the package root)
PACKAGES=(
  "echarts@6.1.0 dist/echarts.min.js LICENSE NOTICE"
  "axe-core@4.14.1 axe.min.js LICENSE"
  "swagger-ui-dist@5.36.0 swagger-ui-bundle.js swagger-ui.css LICENSE"
  "redoc@3.0.1 bundles/redoc.standalone.js LICENSE"
)
for entry in "${PACKAGES[@]}"; do
  read -r spec files <<<"$entry"
  name=${spec%@*}
  dest=$VENDOR/$name
  missing=0
  for f in $files; do [ -f "$dest/$(basename "$f")" ] || missing=1; done
  [ "$missing" = 0 ] && continue
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$dest"
  for f in $files; do
    if [ -f "$tmp/package/$f" ]; then cp "$tmp/package/$f" "$dest/$(basename "$f")"; fi
  done
  echo "$spec" > "$dest/VERSION"
  rm -rf "$tmp"
done
