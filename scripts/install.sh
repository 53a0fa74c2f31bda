#!/usr/bin/env bash
# Quick start, step 1: install what Lotse needs, build it to /usr/local/bin/lotse, and start a
# single-node server in the background (no systemd here: a plain background process).
#   logs: /var/log/lotse.log   pid: /run/lotse.pid   stop: kill "$(cat /run/lotse.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
dotnet publish src/Lotse/Lotse.csproj -c Release -o /usr/local/lib/lotse --nologo -v quiet
ln -sf /usr/local/lib/lotse/lotse /usr/local/bin/lotse
echo "install: lotse $(lotse --version) at /usr/local/bin/lotse"

if [ -f /run/lotse.pid ] && kill -0 "$(cat /run/lotse.pid)" 2>/dev/null; then
  echo "install: stopping the running server (pid $(cat /run/lotse.pid))"
  kill "$(cat /run/lotse.pid)"
  for _ in $(seq 1 100); do kill -0 "$(cat /run/lotse.pid)" 2>/dev/null || break; sleep 0.1; done
fi

setsid nohup /usr/local/bin/lotse server "$@" >/var/log/lotse.log 2>&1 < /dev/null &
echo $! > /run/lotse.pid
for _ in $(seq 1 300); do
  if grep -q "Lotse server is running" /var/log/lotse.log 2>/dev/null; then
    echo "install: lotse server is running (pid $(cat /run/lotse.pid)); logs in /var/log/lotse.log"
    exit 0
  fi
  kill -0 "$(cat /run/lotse.pid)" 2>/dev/null || { echo "install: lotse server failed to start:" >&2; tail -n 20 /var/log/lotse.log >&2; exit 1; }
  sleep 0.1
done
echo "install: lotse server did not report ready within 30 s; see /var/log/lotse.log" >&2
exit 1
