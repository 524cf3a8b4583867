#!/usr/bin/env bash
# Builds the examples and runs one: examples/run.sh [MainClass] [args...]   (default: ConvertExample)
# ConvertExample without arguments converts the embedded model into a temporary folder, removed on exit;
# PipelineExample (convert -> uptrain -> compare) likewise works in a temporary folder.
# Maven's output is shown only when the build fails (Maven 3.8 prints colour codes even when piped).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if ! mvn -B -q -ntp -Dstyle.color=never -DskipTests -pl examples -am package >"$WORK/build.log" 2>&1; then
  if [ -t 2 ]; then cat "$WORK/build.log" >&2; else sed 's/\x1b\[[0-9;]*m//g' "$WORK/build.log" >&2; fi
  echo "examples/run.sh: build failed" >&2
  exit 1
fi
MAIN=ConvertExample
if [ $# -gt 0 ] && [[ "$1" != -* ]] && [[ "$1" =~ ^[A-Z] ]]; then MAIN=$1; shift; fi
if [ "$MAIN" = ConvertExample ] && [ $# -eq 0 ]; then set -- models/headfuse-mha-s "$WORK/gqa"; fi
if [ "$MAIN" = PipelineExample ] && [ $# -eq 0 ]; then set -- models/headfuse-mha-s "$WORK"; fi
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "examples/target/headfuse-examples-0.1.0-SNAPSHOT.jar:$(cat examples/target/classpath.txt)" "io.headfuse.examples.$MAIN" "$@"
