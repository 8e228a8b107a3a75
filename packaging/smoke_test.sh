#!/usr/bin/env bash
# Smoke test of DEQ Studio's built artifacts, each unpacked into a temporary folder and run in a clean environment
# (env -i: nothing from a development virtualenv, no PYTHONPATH, HOME in the temporary folder, Qt offscreen).
#
#     packaging/smoke_test.sh                   # the .tar.gz and the .deb in dist/ (newest of each)
#     packaging/smoke_test.sh ARTIFACT          # one artifact (.tar.gz, or .deb unpacked with dpkg-deb -x)
#
# Per artifact: --version; --self-test --screenshot twice (a cold and a warm start; the self-test says how long
# after launch the window was shown) and once more on X11 (xcb) where xvfb-run exists; a headless fit of the
# built-in image (--demo); inverse, attack and meta-test on the shipped models and datasets with small counts; fit
# --help showing the settings' explanations; short fits of the audio, mesh and video samples; the tarball's
# add-to-menu.sh. Prints the time of each and the sizes; exits 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

EXPLANATION="How close the answer must get"  # the start of SolverConfig.tol's docstring, as --help shows it
failures=0

artifacts=("$@")
if [ ${#artifacts[@]} -eq 0 ]; then
    for pattern in 'dist/deq-studio-*-linux-*.tar.gz' 'dist/deq-studio_*.deb'; do
        newest=$(ls -t $pattern 2>/dev/null | head -n 1)
        [ -n "$newest" ] && artifacts+=("$newest")
    done
fi
if [ ${#artifacts[@]} -eq 0 ]; then
    echo "smoke test: no artifact given and none in dist/ (run make package first)" >&2
    exit 2
fi

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# check NAME COMMAND...: run COMMAND in the clean environment from the work folder; say PASS/FAIL with its time.
check() {
    local name=$1; shift
    local log="$tmp/logs/$name.log" start rc seconds
    start=$(date +%s.%N)
    (cd "$tmp/cwd" && env -i HOME="$tmp/home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen "$@") >"$log" 2>&1
    rc=$?
    seconds=$(since "$start")
    last_log=$log
    if [ $rc -eq 0 ]; then
        printf '  PASS %-16s %6s s  %s\n' "$name" "$seconds" "$(tail -n 1 "$log")"
    else
        printf '  FAIL %-16s %6s s  exit %d; the end of its output:\n' "$name" "$seconds" "$rc"
        tail -n 15 "$log" | sed 's/^/         /'
        failures=$((failures + 1))
    fi
    return $rc
}

# expect NAME TEXT: the last command's output holds TEXT.
expect() {
    if ! grep -qF -- "$2" "$last_log"; then
        echo "  FAIL $1: the output does not contain: $2"
        failures=$((failures + 1))
    fi
}

for artifact in "${artifacts[@]}"; do
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/deq-studio-smoke.XXXXXX")
    mkdir -p "$tmp/home" "$tmp/cwd" "$tmp/logs" "$tmp/unpacked"
    start=$(date +%s.%N)
    case "$artifact" in
        *.tar.gz)
            tar -xzf "$artifact" -C "$tmp/unpacked" || { echo "FAIL: cannot unpack $artifact"; exit 1; }
            root=$(find "$tmp/unpacked" -mindepth 1 -maxdepth 1 -type d | head -n 1) ;;
        *.deb)
            dpkg-deb -x "$artifact" "$tmp/unpacked" || { echo "FAIL: cannot unpack $artifact"; exit 1; }
            root="$tmp/unpacked/opt/deq-studio" ;;
        *) echo "smoke test: $artifact is neither a .tar.gz nor a .deb" >&2; exit 2 ;;
    esac
    unpack_s=$(since "$start")
    exe="$root/deq-studio"
    samples="$root/_internal/resources/samples"
    echo "$artifact: $(mb "$(stat -c %s "$artifact")") packed, $(mb "$(du -sb "$tmp/unpacked" | cut -f1)") unpacked" \
         "(in $unpack_s s)"
    if [ ! -x "$exe" ]; then
        echo "  FAIL: no executable deq-studio in the unpacked artifact"
        failures=$((failures + 1))
        continue
    fi

    version=$(basename "$artifact" | sed -E 's/^deq-studio(-cuda)?[-_]([0-9][^-_]*)[-_].*/\2/')
    check version "$exe" --version && expect version "DEQ Studio $version"
    check self-test-cold "$exe" --self-test --screenshot "$tmp/cwd/self-test.png"
    check self-test-warm "$exe" --self-test --screenshot "$tmp/cwd/self-test.png" && \
        { [ -s "$tmp/cwd/self-test.png" ] || { echo "  FAIL: no screenshot written"; failures=$((failures + 1)); }; }
    if grep -qF "needs PortAudio" "$last_log"; then
        echo "  FAIL: the bundle's PortAudio did not load: $(grep -F "needs PortAudio" "$last_log")"
        failures=$((failures + 1))
    fi
    if command -v xvfb-run >/dev/null 2>&1; then
        check self-test-x11 xvfb-run -a -s "-screen 0 1600x1000x24" \
            sh -c 'exec env -i HOME="$0" PATH=/usr/bin:/bin DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" \
                   QT_QPA_PLATFORM=xcb "$1" --self-test' "$tmp/home" "$exe"
    else
        echo "  skip self-test-x11 (no xvfb-run)"
    fi
    check fit-demo "$exe" --demo && \
        { [ -s "$tmp/cwd/runs/image-gabor-imfn-represent/reconstruction.png" ] && [ -s "$tmp/cwd/runs/image-gabor-imfn-represent/metrics.jsonl" ] \
          || { echo "  FAIL: the demo fit wrote no reconstruction or metrics"; failures=$((failures + 1)); }; }
    check inverse "$exe" inverse --count 8 --corruption noise --out "$tmp/cwd/runs/inverse" && expect inverse "PSNR"
    check attack "$exe" attack --count 16 --out "$tmp/cwd/runs/attack" && expect attack "success"
    check meta-test "$exe" meta-test --episodes 20 && expect meta-test "5-way 1-shot"  # shipped model and Omniglot
    check fit-help "$exe" fit --help && expect fit-help "$EXPLANATION"
    if [ -x "$root/add-to-menu.sh" ]; then  # the tarball's menu entry for this unpacked folder
        entry="$tmp/home/.local/share/applications/deq-studio.desktop"
        check add-to-menu "$root/add-to-menu.sh" && \
            { grep -qF "TryExec=$exe" "$entry" && { ! command -v desktop-file-validate >/dev/null \
              || desktop-file-validate "$entry"; } || { echo "  FAIL: bad menu entry $entry"; failures=$((failures + 1)); }; }
        check remove-from-menu "$root/add-to-menu.sh" --remove && \
            { [ ! -e "$entry" ] || { echo "  FAIL: $entry is still there"; failures=$((failures + 1)); }; }
    fi
    if [ -d "$samples" ]; then
        check fit-audio "$exe" fit "$samples/audio.wav" --steps 5 --out "$tmp/cwd/runs/audio"
        check fit-mesh "$exe" fit "$samples/mesh.ply" --steps 5 --mesh-points 20000 --batch-size 5000 \
            --eval-points 20000 --mc-resolution 48 --out "$tmp/cwd/runs/mesh"
        check fit-video "$exe" fit "$samples/video.mp4" --steps 5 --out "$tmp/cwd/runs/video"
    fi
    rm -rf "$tmp"
done

if [ $failures -gt 0 ]; then
    echo "smoke test: $failures failure(s)"
    exit 1
fi
echo "smoke test: all passed"
