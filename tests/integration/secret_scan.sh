#!/usr/bin/env bash
# The secret scan (issue 18): after the integration suite, greps every log line its routers wrote
# and every answer its tests received (kept in SB_SECRET_SCAN_DIR by tests/integration/harness.cc)
# for every secret, token and password the tests use. Fails when one appears, or when nothing was
# recorded (a scan of nothing proves nothing).
#   secret_scan.sh <dir>
set -euo pipefail
dir=${1:?usage: secret_scan.sh <dir>}

# Every secret the integration tests give the router, its servers or its stores. bbb-sim's
# servers have "sim-secret-<i>"; the URL and store passwords are the ones tests put in URLs.
secrets=(
  router-secret          # Router::kSecret, the router's own BBB secret
  admin-token            # Router::kToken, the admin API token
  registration-token     # the registration tokens of admin tests
  sim-secret-            # every bbb-sim server's secret
  Sup3rSecretPw          # a PostgreSQL password in a store URL
  hunter2                # a PostgreSQL password in a store URL
  UrlPassw0rd            # a password inside a BBB server URL (http://user:pw@host)
  tenant-secret          # the tenants' secrets (tenants_test.cc, pg_store_test.cc)
)

shopt -s nullglob
logs=("$dir"/log-*.txt)
answers=("$dir"/answers-*.txt)
if ((${#logs[@]} == 0 || ${#answers[@]} == 0)); then
  echo "secret scan: nothing recorded in $dir (logs: ${#logs[@]}, answers: ${#answers[@]})"
  exit 1
fi
lines=$(cat "${logs[@]}" | wc -l)
answered=$(grep -c '^== ' "${answers[@]}" | awk -F: '{ n += $NF } END { print n }')
echo "secret scan: $lines log lines from ${#logs[@]} processes, $answered answers"
((lines > 0 && answered > 0)) || { echo "secret scan: nothing to scan"; exit 1; }

found=0
for secret in "${secrets[@]}"; do
  if hits=$(grep -F -n -- "$secret" "${logs[@]}" "${answers[@]}"); then
    echo "secret scan: '$secret' appears:"
    echo "$hits" | head -5
    found=1
  fi
done
((found == 0)) || exit 1
echo "secret scan: no secret, token or password found"
