#!/bin/sh
# One-shot job (temporalio/admin-tools): waits for the server, creates the namespaces and registers the
# search attributes geofailover sets (src/contract/names.ts SEARCH_ATTRIBUTES) in each.
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACES="${TEMPORAL_NAMESPACES:-default}"

until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  echo "waiting for Temporal at $ADDRESS"
  sleep 1
done

for namespace in $NAMESPACES; do
  temporal operator namespace describe --address "$ADDRESS" -n "$namespace" >/dev/null 2>&1 ||
    temporal operator namespace create --address "$ADDRESS" -n "$namespace" --retention 30d
  for attribute in FailoverGroup FailedRegion RunbookPhase; do
    temporal operator search-attribute create --address "$ADDRESS" --namespace "$namespace" \
      --name "$attribute" --type Keyword || echo "search attribute $attribute exists in $namespace"
  done
  echo "namespace $namespace ready"
done
