#!/usr/bin/env bash
# Builds the examples and runs one: examples/run.sh [MainClass] [args...]   (default: ConvertExample)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn -B -q -ntp -Dstyle.color=never -DskipTests -pl examples -am package
MAIN=ConvertExample
if [ $# -gt 0 ] && [[ "$1" != -* ]] && [[ "$1" =~ ^[A-Z] ]]; then MAIN=$1; shift; fi
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "examples/target/headfuse-examples-0.1.0-SNAPSHOT.jar:$(cat examples/target/classpath.txt)" "io.headfuse.examples.$MAIN" "$@"
