#!/bin/sh
# run-unit.sh - run each cmocka unit test binary; fail if any fails.
status=0; n=0; bad=0
for t in "$@"; do
  n=$((n+1))
  if ! "$t"; then status=1; bad=$((bad+1)); echo "FAILED: $t"; fi
done
echo "unit: $((n-bad)) passed, $bad failed"
exit $status
