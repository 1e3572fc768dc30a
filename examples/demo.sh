#!/bin/sh
# The shipped example, end to end: import the SAMPLE reference data, audit the sample claims,
# write the reports.   sh examples/demo.sh [OUT_DIR]   (default reports/example)
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-reports/example}
REFDATA=${AUDITOR_REFDATA:-refdata}

sh "$HERE/refdata/import.sh" "$REFDATA" >/dev/null
status=0
auditor audit "$HERE/claims/sample_claims.csv" "$HERE/x12/sample_837p.837" \
  --refdata "$REFDATA" --out "$OUT" || status=$?
# Exit 1 means "findings at error level were found" (as a linter): that is the demo working.
[ "$status" -le 1 ] || exit "$status"
echo "Open $OUT/report.html or $OUT/report.xlsx"
