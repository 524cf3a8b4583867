#!/usr/bin/env bash
# Stages a GPU run of headfuse for the device tool (docs/gpu.md, "Repeatable GPU runs"): two xz tarballs that
# two device calls carry, one each, because a call carries at most 64 MiB together with the checkout's tree.
#   data.tar.xz  the teacher headfuse-mha-m (also as teacher/), the four training texts (text/), the reference
#                tools (tools/*.py of ../shared/tools) and any --student folders (students/NAME/). Call 1 unpacks
#                it to /tmp/hf, where it stays while the machine is warm.
#   code.tar.xz  code/: a jlink'd Java 25 runtime, headfuse's jars with their runtime class path (minus the CPU
#                natives the GPU run does not use), bench programs compiled to a jar, bench scripts, and DJL's
#                pytorch-native sources with the JNI header made here (the device has no JDK), so that
#                bench/gpu-env.sh can build the JNI against the device's torch. Call 2 carries it and runs.
# Built JNIs that come back from the device are kept in OUT/jni/ (see gpu-env.sh); call 2 carries that folder too.
#
#   usage: bench/gpu-stage.sh DJL_SRC [--data] [--code] [--student DIR]... [--out DIR]
#     DJL_SRC  a DJL source folder of the release headfuse uses (tag v0.35.1), e.g. from
#              `git --git-dir=MIRROR archive v0.35.1 api/src/main/native engines/pytorch | tar -x -C DIR`
#     --data / --code  stage only that tarball (default: both); --out  the .gpu folder (default: .gpu here).
# The size check counts the tree a device call sends: tracked and untracked-not-ignored files of the git
# checkout that holds OUT, plus what the call carries. Exit 2 for usage errors, 1 for failures; a failure
# leaves the previous tarballs in place.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LIMIT=$((64 * 1024 * 1024))
# Not needed on the GPU: the CPU libtorch and its 2.7.1 JNI, and nd4j with its natives (323 MB unpacked): asym and
# dha find no ND4J on the class path and run their linear algebra in plain Java (fusion.linalg.JavaBackend).
EXCLUDED_JARS='/ai/djl/pytorch/pytorch-native-|/ai/djl/pytorch/pytorch-jni/|/org/nd4j/|/org/bytedeco/'
JLINK_MODULES=java.base,java.logging,java.management,java.naming,java.desktop,java.sql,java.xml,java.compiler,java.net.http,jdk.unsupported,jdk.zipfs
TRAINING_TEXTS="sotu/sotu-1790-2021.txt brown/brown-plain.txt moby-dick/moby-dick.txt tinyshakespeare/tinyshakespeare.txt"

usage() { echo "gpu-stage: $*" >&2; echo "usage: bench/gpu-stage.sh DJL_SRC [--data] [--code] [--student DIR]... [--out DIR]" >&2; exit 2; }
fail() { echo "gpu-stage: $*" >&2; exit 1; }

DJL=""; DATA=0; CODE=0; OUT="$ROOT/.gpu"; STUDENTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=1 ;;
    --code) CODE=1 ;;
    --out) [ $# -ge 2 ] || usage "--out needs a folder"; OUT="$2"; shift ;;
    --student) [ $# -ge 2 ] || usage "--student needs a folder"; [ -f "$2/config.json" ] || usage "$2: not a model folder (no config.json)"; STUDENTS+=("$(cd "$2" && pwd)"); shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) usage "unknown option $1" ;;
    *) [ -z "$DJL" ] || usage "one DJL_SRC only"; DJL="$1" ;;
  esac
  shift
done
[ "$DATA$CODE" = 00 ] && DATA=1 && CODE=1
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
ASSETS="${HEADFUSE_ASSETS:-$ROOT/../shared/assets}"
TOOLS="${HEADFUSE_TOOLS:-$ROOT/../shared/tools}"
DJL_VERSION="$(sed -n 's:.*<djl.version>\(.*\)</djl.version>.*:\1:p' "$ROOT/parent/pom.xml")"
NATIVE="$DJL/engines/pytorch/pytorch-native"
if [ "$CODE" = 1 ]; then
  [ -n "$DJL" ] || usage "DJL_SRC is missing"
  [ -f "$NATIVE/CMakeLists.txt" ] && [ -f "$DJL/api/src/main/native/djl/utils.h" ] \
    || usage "$DJL: not a DJL source folder (needs engines/pytorch/pytorch-native and api/src/main/native)"
  grep -q "^djl = \"$DJL_VERSION\"" "$DJL/gradle/libs.versions.toml" 2>/dev/null \
    || usage "$DJL: not DJL $DJL_VERSION (gradle/libs.versions.toml); headfuse's JNI must come from the same release"
fi
if [ "$DATA" = 1 ]; then
  [ -f "$ASSETS/models/headfuse-mha-m/config.json" ] || fail "$ASSETS/models/headfuse-mha-m: teacher not found (set HEADFUSE_ASSETS)"
  [ -f "$TOOLS/hf_ppl.py" ] || fail "$TOOLS/hf_ppl.py: not found (set HEADFUSE_TOOLS)"
fi
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
CHECKOUT="$(git -C "$OUT/.." rev-parse --show-toplevel 2>/dev/null)" || fail "$OUT: not inside a git checkout (the device sends one)"
git -C "$CHECKOUT" check-ignore -q "$OUT/x.tar.xz" || fail "$OUT: not ignored by git in $CHECKOUT; it would travel in every call"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT

# Bytes of the tree a device call sends besides what it carries.
tree_bytes() { (cd "$CHECKOUT" && git ls-files -co --exclude-standard -z | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}'); }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
# tar with a stable order and owner, so the same inputs give the same archive; xz on both cores.
pack() { tar --sort=name --owner=0 --group=0 --numeric-owner -C "$1" -cf - "$2" | xz -9 -T2 > "$3"; }  # DIR MEMBER OUT
check_call() {  # NAME FILE... : the call's total against the limit
  local name="$1" total tree; shift
  tree="$(tree_bytes)"; total=$((tree + $(du -cb "$@" | tail -1 | cut -f1)))
  echo "gpu-stage: $name call sends $(mib "$total") ($(mib "$tree") tree of $CHECKOUT + $(mib $((total - tree))) carried) of $(mib $LIMIT)"
  [ "$total" -le "$LIMIT" ]
}

if [ "$DATA" = 1 ]; then
  d="$WORK/data"; mkdir -p "$d/text" "$d/tools" "$d/students"
  cp -r "$ASSETS/models/headfuse-mha-m" "$d/" && ln -s headfuse-mha-m "$d/teacher"   # teacher/: distill_ref.py's layout
  for t in $TRAINING_TEXTS; do cp "$ASSETS/text/$t" "$d/text/"; done
  cp "$TOOLS"/*.py "$d/tools/"
  for s in "${STUDENTS[@]}"; do cp -r "$s" "$d/students/$(basename "$s")"; done
  chmod -R u+w "$d"
  pack "$d" . "$WORK/data.tar.xz"
  check_call data "$WORK/data.tar.xz" || fail "data.tar.xz would put call 1 over 64 MiB; leave out --student folders"
  mv "$WORK/data.tar.xz" "$OUT/data.tar.xz"
  echo "gpu-stage: $OUT/data.tar.xz $(mib "$(stat -c %s "$OUT/data.tar.xz")")"
fi

if [ "$CODE" = 1 ]; then
  c="$WORK/code"; mkdir -p "$c/lib" "$c/bench" "$c/djl"
  echo "gpu-stage: building headfuse's jars in $ROOT" >&2
  (cd "$ROOT" && mvn -B -q -ntp -DskipTests -Dspotless.check.skip=true package -pl converter -am) || fail "the Maven build failed in $ROOT"
  CP="$ROOT/converter/target/headfuse-converter-0.1.0-SNAPSHOT.jar:$(cat "$ROOT/converter/target/classpath.txt")"
  for j in ${CP//:/ }; do
    if [[ "$j" =~ $EXCLUDED_JARS ]]; then continue; fi
    cp "$j" "$c/lib/$(basename "$j")"
  done
  # DJL's tokenizers jar carries its Rust library for five platforms; the device needs linux-x86_64's only.
  tk="$(ls "$c"/lib/tokenizers-*.jar)"
  zip -q -d "$tk" 'native/lib/osx-*' 'native/lib/win-*' 'native/lib/linux-aarch64/*' >/dev/null
  # The bench programs, compiled here: the runtime below has no compiler.
  mkdir "$WORK/classes"
  "$JAVA_HOME/bin/javac" -nowarn -d "$WORK/classes" -cp "$CP" "$ROOT"/bench/*.java || fail "bench/*.java do not compile"
  "$JAVA_HOME/bin/jar" --create --file "$c/lib/headfuse-bench.jar" -C "$WORK/classes" .
  cp "$ROOT"/bench/*.sh "$ROOT"/bench/*.py "$c/bench/"
  # Jars stored uncompressed: xz then compresses all class files as one stream, about half the deflated size.
  python3 -c 'import sys, zipfile, os
for jar in sys.argv[1:]:
    with zipfile.ZipFile(jar) as src, zipfile.ZipFile(jar + ".tmp", "w", zipfile.ZIP_STORED) as dst:
        for e in src.infolist():
            data = src.read(e); e.compress_type = zipfile.ZIP_STORED; dst.writestr(e, data)
    os.replace(jar + ".tmp", jar)' "$c"/lib/*.jar
  # Keep include/ (jni.h): the JNI is compiled against this runtime on the device.
  "$JAVA_HOME/bin/jlink" --add-modules "$JLINK_MODULES" --strip-debug --no-man-pages --output "$c/jre"
  strip --strip-unneeded "$c/jre/lib/server/libjvm.so"   # its symbol tables are a fifth of the runtime
  # DJL's JNI sources; the header that DJL's build makes with `javac -h` is made here instead.
  mkdir -p "$c/djl/engines/pytorch/pytorch-native" "$c/djl/api/src/main/native/djl"
  cp -r "$NATIVE/CMakeLists.txt" "$NATIVE/src" "$c/djl/engines/pytorch/pytorch-native/"
  cp "$DJL/api/src/main/native/djl/utils.h" "$c/djl/api/src/main/native/djl/"
  "$JAVA_HOME/bin/javac" -h "$c/djl/engines/pytorch/pytorch-native/build/include" -d "$WORK/jni-classes" \
    "$DJL/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java" || fail "javac -h on DJL's PyTorchLibrary.java failed"
  echo "$DJL_VERSION" > "$c/djl/VERSION"
  # headfuse's fused kernels, compiled on the device against its torch (gpu-env.sh), and fonts for the charts.
  mkdir -p "$c/native" "$c/fonts"
  cp "$ROOT/uptrain/src/main/native/headfuse_torch.cpp" "$c/native/"
  FONT="${HEADFUSE_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}"
  if [ -f "$FONT" ]; then
    cp "$FONT" "$c/fonts/"
    printf '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>@FONTS@</dir><cachedir>@CACHE@</cachedir></fontconfig>\n' > "$c/fonts/fonts.conf.in"
  else
    echo "gpu-stage: warning: $FONT not found (set HEADFUSE_FONT); charts will not render on the device" >&2
  fi
  pack "$WORK" code "$WORK/code.tar.xz"
  mkdir -p "$OUT/jni"
  check_call code "$WORK/code.tar.xz" "$OUT/jni" || fail "code.tar.xz would put call 2 over 64 MiB"
  mv "$WORK/code.tar.xz" "$OUT/code.tar.xz"
  echo "gpu-stage: $OUT/code.tar.xz $(mib "$(stat -c %s "$OUT/code.tar.xz")") ($(ls "$c/lib" | wc -l) jars; cached JNIs in $OUT/jni: $(ls "$OUT/jni" | wc -l))"
fi
