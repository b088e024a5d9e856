#!/usr/bin/env bash
# Installs the Spark runtime the Spark tests run against, once, into a cache directory kept
# between runs: Spark (bin/, jars/ with the Spark Connect server) from the pyspark source
# package on PyPI, plus Delta Lake from Maven Central, whose tables support the DELETE, UPDATE
# and CREATE OR REPLACE TABLE that idr's pipeline issues (plain Parquet tables do not).
#
#   scripts/spark/install.sh        prints the Spark home it installed or found
#
# IDR_SPARK_HOME overrides where it goes (default: $XDG_CACHE_HOME/idr/spark-VERSION-delta-VERSION).
set -euo pipefail

SPARK_VERSION=4.0.1
DELTA_VERSION=4.0.0 # Delta Lake 4.0.x is built for Spark 4.0.x

cache=${XDG_CACHE_HOME:-$HOME/.cache}/idr
home=${IDR_SPARK_HOME:-$cache/spark-$SPARK_VERSION-delta-$DELTA_VERSION}

if [[ -f $home/.installed ]]; then
  echo "$home"
  exit 0
fi

command -v java >/dev/null || { echo "install.sh: java not found; Spark $SPARK_VERSION needs Java 17 or newer" >&2; exit 1; }
command -v mvn >/dev/null || { echo "install.sh: mvn not found; it fetches Delta Lake" >&2; exit 1; }
pip=(python3 -m pip)
"${pip[@]}" --version >/dev/null || { echo "install.sh: python3 -m pip not found; it fetches Spark" >&2; exit 1; }

mkdir -p "$(dirname "$home")"
work=$(mktemp -d "$(dirname "$home")/install.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "install.sh: fetching pyspark $SPARK_VERSION (about 430 MB, once)" >&2
"${pip[@]}" download --quiet --no-deps --no-binary=:all: "pyspark==$SPARK_VERSION" -d "$work/dl" >&2
tar -xzf "$work/dl/pyspark-$SPARK_VERSION.tar.gz" -C "$work" "pyspark-$SPARK_VERSION/deps"
mv "$work/pyspark-$SPARK_VERSION/deps" "$work/spark"
[[ -f $work/spark/jars/spark-connect_2.13-$SPARK_VERSION.jar ]] ||
  { echo "install.sh: the pyspark package has no Spark Connect server jar" >&2; exit 1; }

echo "install.sh: fetching Delta Lake $DELTA_VERSION" >&2
for artifact in "io.delta:delta-spark_2.13:$DELTA_VERSION" "io.delta:delta-storage:$DELTA_VERSION"; do
  mvn --batch-mode --quiet -Dstyle.color=never dependency:copy -Dartifact="$artifact" -DoutputDirectory="$work/spark/jars" >&2
done

touch "$work/spark/.installed"
rm -rf "$home"
mv "$work/spark" "$home"
echo "$home"
