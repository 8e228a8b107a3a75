#!/bin/sh
# Add DEQ Studio (this unpacked folder) to the current user's applications menu, or take it out with --remove.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor"
if [ "${1:-}" = "--remove" ]; then
    rm -f "$apps/deq-studio.desktop"
    for folder in "$icons"/*/apps; do rm -f "$folder/deq-studio.png" "$folder/deq-studio.svg"; done
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
    echo "DEQ Studio taken out of the menu."
    exit 0
fi
mkdir -p "$apps"
for png in "$here"/_internal/resources/icons/deq-studio-*.png; do
    size=$(basename "$png" .png | sed 's/.*-//')
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$png" "$icons/${size}x${size}/apps/deq-studio.png"
done
sed -e "s|^Exec=deq-studio|Exec=\"$here/deq-studio\"|" -e "s|^TryExec=deq-studio|TryExec=$here/deq-studio|" \
    "$here/_internal/resources/deq-studio.desktop" > "$apps/deq-studio.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
echo "DEQ Studio is in the applications menu ($apps/deq-studio.desktop)."
