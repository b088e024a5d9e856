#!/usr/bin/env bash
# Starts a Spark Connect server for tests and local use: 127.0.0.1 on a free port, local[2],
# a 2 GB driver, Delta Lake tables, an in-memory catalog and a warehouse under STATE_DIR, few
# shuffle partitions (test data is small) and logging at WARN.
# Waits until the server answers, then prints its URL (sc://127.0.0.1:PORT) on stdout.
#
#   scripts/spark/start.sh STATE_DIR     (STATE_DIR is created; stop.sh STATE_DIR stops it)
#
# Installs the runtime first if needed (install.sh). IDR_SPARK_DRIVER_MEMORY overrides 2g.
set -euo pipefail

state=${1:?usage: start.sh STATE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
home=$("$here/install.sh")
mkdir -p "$state"
state=$(cd "$state" && pwd)
if [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
  echo "start.sh: a server started from $state is already running (pid $(cat "$state/pid")); stop it with stop.sh $state" >&2
  exit 1
fi
mkdir -p "$state/warehouse" "$state/local" "$state/derby"
# Warnings and errors only: at INFO the server logs every statement's plan, which costs time.
cat >"$state/log4j2.properties" <<'LOG'
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
LOG

# A free port: bind to port 0 and read the one the kernel gave.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

SPARK_HOME=$home SPARK_LOG_DIR=$state SPARK_LOCAL_IP=127.0.0.1 setsid nohup "$home/bin/spark-submit" \
  --class org.apache.spark.sql.connect.service.SparkConnectServer \
  --name idr-spark-connect \
  --master 'local[2]' \
  --driver-memory "${IDR_SPARK_DRIVER_MEMORY:-2g}" \
  --conf spark.connect.grpc.binding.address=127.0.0.1 \
  --conf spark.connect.grpc.binding.port="$port" \
  --conf spark.driver.host=127.0.0.1 \
  --conf spark.driver.bindAddress=127.0.0.1 \
  --conf spark.ui.enabled=false \
  --conf spark.local.dir="$state/local" \
  --conf spark.sql.warehouse.dir="$state/warehouse" \
  --conf spark.sql.catalogImplementation=in-memory \
  --conf spark.driver.extraJavaOptions="-Dderby.system.home=$state/derby -Djava.io.tmpdir=$state/local -Dlog4j2.configurationFile=file:$state/log4j2.properties" \
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
  --conf spark.sql.sources.default=delta \
  --conf spark.sql.shuffle.partitions=2 \
  --conf spark.default.parallelism=2 \
  --conf spark.databricks.delta.snapshotPartitions=2 \
  --conf spark.databricks.delta.stats.collect=false \
  --conf spark.databricks.delta.stalenessLimit=0 \
  >"$state/server.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$state/pid"
echo "$port" >"$state/port"

# Ready when the gRPC port accepts connections; the server binds it after its session is up.
for _ in $(seq 1 240); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start.sh: the Spark Connect server exited; last lines of $state/server.log:" >&2
    tail -n 20 "$state/server.log" >&2
    rm -f "$state/pid"
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "sc://127.0.0.1:$port" | tee "$state/url"
    exit 0
  fi
  sleep 0.5
done
echo "start.sh: the Spark Connect server did not answer on 127.0.0.1:$port within 120 s; see $state/server.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
