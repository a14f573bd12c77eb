#!/usr/bin/env bash
# Several gateways sharing one Redis, on one machine: the README's recipe, run end to end.
#
#   npm run demo:cluster
#
# One set of provider emulators stands in for the providers; two gateways get the emulators' env
# file (ENV_FILE) and share their tokens through Redis, encrypted with a fresh key. Every provider
# is called through each gateway, the fleet must have asked each token endpoint once, then
# everything is stopped with SIGTERM. Exits non-zero as soon as a step fails.
#
# Settings (environment): REDIS_URL (default redis://127.0.0.1:6379/0), EMULATORS_PORT (4010),
# GATEWAY_PORTS ("3001 3002").
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
EMULATORS_PORT=${EMULATORS_PORT:-4010}
read -r -a GATEWAY_PORTS <<<"${GATEWAY_PORTS:-3001 3002}"
PROVIDERS=(latam transatel payme prio sabre acme)

say() { echo "demo:cluster: $*"; }
fail() {
  echo "demo:cluster: $*" >&2
  exit 1
}

work=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT

[ -f dist/apps/gateway/src/main.js ] && [ -f libs/provider-emulators/dist/main.js ] || npm run -s build

# The Redis the gateways share (its password, if any, is not printed).
redis_shown=$(sed -E 's#//[^@/]*@#//#' <<<"$REDIS_URL")
node --input-type=module -e "import { redisAnswers } from './scripts/redis-server.mjs'; process.exit((await redisAnswers(process.argv[1])) ? 0 : 1);" "$REDIS_URL" ||
  fail "no Redis answers at $redis_shown: start one (redis-server) or set REDIS_URL"

# 1. The emulators, writing the gateways' env file (provider URLs, credentials, an API key).
node libs/provider-emulators/dist/main.js --port "$EMULATORS_PORT" --write-env "$work/emulators.env" >"$work/emulators.log" 2>&1 &
pids+=($!)
emulators=$!
until [ -f "$work/emulators.env" ]; do
  kill -0 "$emulators" 2>/dev/null || fail "$(cat "$work/emulators.log")"
  sleep 0.1
done
KEY=$(. "$work/emulators.env" && echo "$GATEWAY_API_KEYS")
say "provider emulators on http://127.0.0.1:$EMULATORS_PORT"

# 2. The gateways: the same env file, one Redis, one encryption key.
TOKEN_ENCRYPTION_KEY=$(node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))")
gateways=()
for port in "${GATEWAY_PORTS[@]}"; do
  ENV_FILE="$work/emulators.env" PORT=$port HOST=127.0.0.1 NODE_ENV=production LOG_LEVEL=warn \
    REDIS_URL=$REDIS_URL TOKEN_ENCRYPTION_KEY=$TOKEN_ENCRYPTION_KEY \
    node dist/apps/gateway/src/main.js >"$work/gateway-$port.log" 2>&1 &
  pids+=($!)
  gateways+=($!)
done
for i in "${!GATEWAY_PORTS[@]}"; do
  port=${GATEWAY_PORTS[$i]}
  until curl -fs --max-time 2 "http://127.0.0.1:$port/health" >/dev/null; do
    kill -0 "${gateways[$i]}" 2>/dev/null || fail "the gateway on port $port did not start: $(cat "$work/gateway-$port.log")"
    sleep 0.1
  done
  say "gateway on http://127.0.0.1:$port (tokens shared through $redis_shown)"
done

# 3. Every provider through every gateway.
for port in "${GATEWAY_PORTS[@]}"; do
  for provider in "${PROVIDERS[@]}"; do
    status=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -H "x-api-key: $KEY" "http://127.0.0.1:$port/$provider/hello")
    [ "$status" = 200 ] || fail "GET http://127.0.0.1:$port/$provider/hello answered $status"
  done
  say "  curl -H 'x-api-key: \$KEY' http://127.0.0.1:$port/<provider>/hello: 200 for ${PROVIDERS[*]}"
done

# 4. One token request per provider for the whole fleet: the other gateway took it from Redis.
counts=()
for provider in "${PROVIDERS[@]}"; do
  total=0
  for port in "${GATEWAY_PORTS[@]}"; do
    n=$(curl -fs --max-time 30 "http://127.0.0.1:$port/metrics" |
      awk -v series="gateway_token_requests_total{provider=\"$provider\",outcome=\"success\"}" '$1 == series { print $2 }')
    total=$((total + ${n:-0}))
  done
  counts+=("$provider $total")
  [ "$total" = 1 ] || fail "$provider: $total token requests for ${#GATEWAY_PORTS[@]} gateways (expected 1, shared through Redis)"
done
say "token requests for the ${#GATEWAY_PORTS[@]} gateways: $(IFS=,; echo "${counts[*]}" | sed 's/,/, /g')"

# 5. A clean stop: SIGTERM, each gateway drains and exits 0.
for i in "${!gateways[@]}"; do
  kill -TERM "${gateways[$i]}"
  code=0
  wait "${gateways[$i]}" || code=$?
  [ "$code" = 0 ] || fail "the gateway on port ${GATEWAY_PORTS[$i]} exited $code on SIGTERM: $(cat "$work/gateway-${GATEWAY_PORTS[$i]}.log")"
done
say "stopped: every gateway exited 0 on SIGTERM"
