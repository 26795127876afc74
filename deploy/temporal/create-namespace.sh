#!/bin/sh
# One-shot job (temporalio/admin-tools): waits for the server, creates the namespace and registers the
# search attributes geofailover sets (src/contract/names.ts SEARCH_ATTRIBUTES).
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"

until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  echo "waiting for Temporal at $ADDRESS"
  sleep 1
done

temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention 30d

for attribute in FailoverGroup FailedRegion RunbookPhase; do
  temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
    --name "$attribute" --type Keyword || echo "search attribute $attribute exists"
done
echo "namespace $NAMESPACE ready"
