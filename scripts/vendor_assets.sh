#!/usr/bin/env bash
# Rebuild static/vendor/ from the npm registry so maps load with no internet (no CDN).
#
# Only the files the maps need are copied (minified JS/CSS, images, woff2 fonts, LICENSE);
# no source maps. Versions match folium 0.20's defaults where folium pins one.
# Run from the project root:  bash scripts/vendor_assets.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

packages=(
  "leaflet@1.9.4"
  "leaflet.heat@0.2.0"
  "jquery@3.7.1"
  "bootstrap@5.2.2"
  "leaflet.awesome-markers@2.0.5"
  "@fortawesome/fontawesome-free@6.2.0"
  "leaflet-draw@1.0.2"
)

cd "$tmp"
for p in "${packages[@]}"; do
  npm pack --silent "$p" >/dev/null
done
for f in *.tgz; do
  d="${f%.tgz}"
  mkdir -p "$d"
  tar -xzf "$f" -C "$d" --strip-components=1
done

rm -rf "$out"
mkdir -p "$out"

# Leaflet: JS, CSS and the control images the CSS points at (relative url(images/...)).
mkdir -p "$out/leaflet/images"
cp leaflet-1.9.4/dist/leaflet.js leaflet-1.9.4/dist/leaflet.css "$out/leaflet/"
cp leaflet-1.9.4/dist/images/*.png "$out/leaflet/images/"
cp leaflet-1.9.4/LICENSE "$out/leaflet/LICENSE"

# Leaflet.heat (density surface of residents).
mkdir -p "$out/leaflet.heat"
cp leaflet.heat-0.2.0/dist/leaflet-heat.js "$out/leaflet.heat/"
cp leaflet.heat-0.2.0/LICENSE "$out/leaflet.heat/LICENSE"

# jQuery and Bootstrap: folium's defaults; kept so maps from other code (folium.Icon, popups
# styled with Bootstrap) still load offline. Our own maps drop them (see maps/assets.py).
mkdir -p "$out/jquery"
cp jquery-3.7.1/dist/jquery.min.js "$out/jquery/"
cp jquery-3.7.1/LICENSE.txt "$out/jquery/LICENSE.txt"
mkdir -p "$out/bootstrap"
cp bootstrap-5.2.2/dist/css/bootstrap.min.css bootstrap-5.2.2/dist/js/bootstrap.bundle.min.js "$out/bootstrap/"
cp bootstrap-5.2.2/LICENSE "$out/bootstrap/LICENSE"

# Leaflet.awesome-markers (folium.Icon) with its marker sprites.
mkdir -p "$out/leaflet.awesome-markers/images"
cp leaflet.awesome-markers-2.0.5/dist/leaflet.awesome-markers.js \
   leaflet.awesome-markers-2.0.5/dist/leaflet.awesome-markers.css "$out/leaflet.awesome-markers/"
cp leaflet.awesome-markers-2.0.5/dist/images/*.png "$out/leaflet.awesome-markers/images/"
cp leaflet.awesome-markers-2.0.5/LICENSE "$out/leaflet.awesome-markers/LICENSE"

# Font Awesome Free: CSS and woff2 fonts only (every browser we target reads woff2).
fa=fortawesome-fontawesome-free-6.2.0
mkdir -p "$out/fontawesome/css" "$out/fontawesome/webfonts"
cp "$fa/css/all.min.css" "$out/fontawesome/css/"
cp "$fa"/webfonts/*.woff2 "$out/fontawesome/webfonts/"
cp "$fa/LICENSE.txt" "$out/fontawesome/LICENSE.txt"

# Leaflet.draw (folium.plugins.Draw: the Coverage map's line tool for network what-ifs) with the
# toolbar sprites its CSS points at. The npm package has no LICENSE file: MIT per package.json.
mkdir -p "$out/leaflet.draw/images"
cp leaflet-draw-1.0.2/dist/leaflet.draw.js leaflet-draw-1.0.2/dist/leaflet.draw.css "$out/leaflet.draw/"
cp leaflet-draw-1.0.2/dist/images/spritesheet.png leaflet-draw-1.0.2/dist/images/spritesheet-2x.png \
   leaflet-draw-1.0.2/dist/images/spritesheet.svg "$out/leaflet.draw/images/"
printf 'Leaflet.draw 1.0.2, MIT licence (package.json "license": "MIT").\nhttps://github.com/Leaflet/Leaflet.draw\n' \
  >"$out/leaflet.draw/LICENSE"

# Drop source-map references so browsers do not ask for files we do not ship.
find "$out" \( -name '*.js' -o -name '*.css' \) -exec sed -i -E '/sourceMappingURL=/d' {} +

du -sh "$out"
find "$out" -type f | sort
