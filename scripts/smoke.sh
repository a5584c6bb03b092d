#!/usr/bin/env bash
# The README's curl walk-through, with checks: run it against a live service.
#   BASE_URL (default http://127.0.0.1:3000), API_KEY (test_key), ADMIN_API_KEY (admin_key)
set -euo pipefail

BASE_URL=${BASE_URL:-http://127.0.0.1:3000}
API_KEY=${API_KEY:-test_key}
ADMIN_API_KEY=${ADMIN_API_KEY:-admin_key}
RUN=$(date +%s%N)   # keys unique to this run, so the script can be repeated
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# call METHOD PATH [BODY] [KEY] [TOKEN]: prints the status; body in $tmp/body, headers in $tmp/headers.
call() {
  local method=$1 path=$2 body=${3:-} key=${4:-} token=${5-$API_KEY}
  local args=(-s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$method" "$BASE_URL$path")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$key" ] && args+=(-H "Idempotency-Key: $key")
  [ -n "$body" ] && args+=(-H "Content-Type: application/json" -d "$body")
  curl "${args[@]}"
}

check() { # check NAME GOT WANT
  if [ "$2" == "$3" ]; then echo "ok   $1"; else echo "FAIL $1: got $2, want $3"; cat "$tmp/body"; echo; failures=$((failures+1)); fi
}

field() { # field NAME: a top-level string field of the last body
  sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$tmp/body" | head -n1
}

echo "== orders and idempotency against $BASE_URL"
check "GET /health" "$(call GET /health "" "" "")" 200

ORDER='{"userId":"u1","amount":500,"currency":"INR"}'
check "create an order" "$(call POST /orders "$ORDER" "demo-$RUN")" 201
first=$(cat "$tmp/body"); id=$(field id)
check "the order is PAID" "$(field status)" PAID

check "retry with the same key" "$(call POST /orders "$ORDER" "demo-$RUN")" 201
check "retry is byte-identical" "$(cat "$tmp/body")" "$first"
check "retry is marked replayed" "$(grep -i '^idempotent-replayed:' "$tmp/headers" | tr -d '\r' | awk '{print $2}')" true

check "same key, other body" "$(call POST /orders '{"userId":"u1","amount":999,"currency":"INR"}' "demo-$RUN")" 422
check "  ... is idempotency_key_reused" "$(field code)" idempotency_key_reused

check "no Idempotency-Key" "$(call POST /orders "$ORDER")" 400
check "  ... is idempotency_key_missing" "$(field code)" idempotency_key_missing

check "invalid amount" "$(call POST /orders '{"userId":"u1","amount":5.5,"currency":"INR"}' "bad-$RUN")" 422
check "  ... names the param" "$(field param)" amount

check "GET /orders/:id" "$(call GET "/orders/$id")" 200
check "GET /orders" "$(call GET "/orders?userId=u1&limit=5")" 200
check "no API key" "$(call GET /orders "" "" "")" 401

echo "== failure drill: the provider declines every charge"
check "raise failureRate to 1" "$(call POST /admin/payment-behavior '{"failureRate":1}' "drill-up-$RUN" "$ADMIN_API_KEY")" 200
check "order with a declined charge" "$(call POST /orders "$ORDER" "declined-$RUN")" 502
check "  ... is payment_failed" "$(field code)" payment_failed
check "  ... replays the same failure" "$(call POST /orders "$ORDER" "declined-$RUN")" 502
check "invalid behavior" "$(call POST /admin/payment-behavior '{"failureRate":7}' "drill-bad-$RUN" "$ADMIN_API_KEY")" 422
check "restore failureRate 0" "$(call POST /admin/payment-behavior '{"failureRate":0}' "drill-down-$RUN" "$ADMIN_API_KEY")" 200
# The seed's drills call the admin route with a bare `curl -d`: curl's form
# Content-Type and no Idempotency-Key. That stays accepted on admin routes.
check "seed-style admin call (curl -d, no key)" "$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "$BASE_URL/admin/payment-behavior" \
  -H "Authorization: Bearer $ADMIN_API_KEY" -d '{"failureRate":0}')" 200
check "order body sent as text/plain" "$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "$BASE_URL/orders" -H "Authorization: Bearer $API_KEY" \
  -H "Idempotency-Key: plain-$RUN" -H 'Content-Type: text/plain' -d "$ORDER")" 415
check "  ... is unsupported_media_type" "$(field code)" unsupported_media_type

echo "== payment intents: create, confirm, wait, refund"
# The walk-through wants predictable outcomes: no random intent failures
# while it runs (the previous rate is restored at the end).
call GET /admin/payment-behavior "" "" "$ADMIN_API_KEY" >/dev/null
prev_rate=$(sed -n 's/.*"intentFailureRate":\([0-9.e-]*\).*/\1/p' "$tmp/body")
check "set intentFailureRate 0" "$(call POST /admin/payment-behavior '{"intentFailureRate":0}' "drill-ifr-$RUN" "$ADMIN_API_KEY")" 200
INTENT='{"amount":2599,"currency":"USD","customer_id":"cus_123","payment_method_id":"pm_fake_visa","capture_method":"automatic","metadata":{"orderId":"ORD-1001"}}'
check "create a payment intent" "$(call POST /payment_intents "$INTENT" "pi-$RUN")" 201
pi=$(field id)
check "  ... requires_confirmation" "$(field status)" requires_confirmation
check "confirm it" "$(call PATCH "/payment_intents/$pi/confirm" '{}' "confirm-$RUN")" 202
check "  ... processing" "$(field status)" processing
status=$(call GET "/payments/$pi")
check "payment while processing" "$status" 425
for _ in $(seq 1 40); do
  call GET "/payment_intents/$pi" >/dev/null
  [ "$(field status)" == "processing" ] || break
  sleep 0.5
done
check "the worker settles the intent" "$(field status)" succeeded
check "GET /payments/:intentId" "$(call GET "/payments/$pi")" 200
pay=$(field payment_id)
check "partial refund" "$(call POST /refunds "{\"payment_id\":\"$pay\",\"amount\":1000,\"reason\":\"requested_by_customer\"}" "refund-1-$RUN")" 201
check "refund too large" "$(call POST /refunds "{\"payment_id\":\"$pay\",\"amount\":5000,\"reason\":\"requested_by_customer\"}" "refund-2-$RUN")" 400
check "  ... is amount_too_large" "$(field code)" amount_too_large
check "refund the rest" "$(call POST /refunds "{\"payment_id\":\"$pay\",\"reason\":\"duplicate\"}" "refund-3-$RUN")" 201
check "  ... of 1599" "$(sed -n 's/.*"amount":\([0-9]*\).*/\1/p' "$tmp/body")" 1599
check "nothing left to refund" "$(call POST /refunds "{\"payment_id\":\"$pay\",\"reason\":\"duplicate\"}" "refund-4-$RUN")" 400
check "  ... is charge_already_refunded" "$(field code)" charge_already_refunded

echo "== manual capture and cancel"
MANUAL='{"amount":5000,"currency":"EUR","customer_id":"cus_123","payment_method_id":"pm_fake_mastercard","capture_method":"manual"}'
check "create a manual-capture intent" "$(call POST /payment_intents "$MANUAL" "pim-$RUN")" 201
pim=$(field id)
check "confirm it" "$(call PATCH "/payment_intents/$pim/confirm" '{}' "confirm-m-$RUN")" 202
for _ in $(seq 1 40); do
  call GET "/payment_intents/$pim" >/dev/null
  [ "$(field status)" == "processing" ] || break
  sleep 0.5
done
check "  ... requires_capture" "$(field status)" requires_capture
check "capture 4000 of 5000" "$(call POST "/payment_intents/$pim/capture" '{"amount_to_capture":4000}' "capture-$RUN")" 200
check "  ... succeeded" "$(field status)" succeeded
check "cancel a succeeded intent" "$(call POST "/payment_intents/$pim/cancel" '{}' "cancel-$RUN")" 409
check "  ... is payment_intent_unexpected_state" "$(field code)" payment_intent_unexpected_state
check "declining test card" "$(call POST /payment_intents '{"amount":100,"currency":"USD","customer_id":"c","payment_method_id":"pm_fake_declined"}' "pid-$RUN")" 201
pid=$(field id)
check "  ... confirm" "$(call PATCH "/payment_intents/$pid/confirm" '{}' "confirm-d-$RUN")" 202
for _ in $(seq 1 40); do
  call GET "/payment_intents/$pid" >/dev/null
  [ "$(field status)" == "processing" ] || break
  sleep 0.5
done
check "  ... failed" "$(field status)" failed
check "  ... card_declined" "$(sed -n 's/.*"last_payment_error":{[^}]*"code":"\([^"]*\)".*/\1/p' "$tmp/body")" card_declined
check "restore intentFailureRate $prev_rate" "$(call POST /admin/payment-behavior "{\"intentFailureRate\":${prev_rate:-0.1}}" "drill-ifr-back-$RUN" "$ADMIN_API_KEY")" 200

if [ "$failures" -gt 0 ]; then
  echo "smoke: $failures check(s) failed"
  exit 1
fi
echo "smoke: all checks passed"
