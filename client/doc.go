// Package client is a typed Go client of the payments service, for every
// route of its API (api/openapi.yaml), that retries safely.
//
// # Quick start
//
//	c, err := client.New("http://127.0.0.1:3000", client.WithAPIKey("test_key"))
//	if err != nil {
//		return err
//	}
//	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
//	defer cancel()
//	order, err := c.CreateOrder(ctx, client.OrderParams{UserID: "u1", Amount: 500, Currency: "USD"})
//	if err != nil {
//		return err
//	}
//	fmt.Println(order.ID, order.Status, order.Response.Replayed)
//
// In tests, paymentstest.New starts the whole service in-process and hands
// over a ready Client.
//
// # One key per logical call
//
// Every write (POST, PATCH) is one logical call with one Idempotency-Key:
// generated (a random UUID), or given with the IdempotencyKey call option.
// Every attempt of the call sends that same key, so however often it is
// retried, the service does the work once and replays its stored answer to
// the others. To resume an operation after your own process restarts, keep
// the key and call again with IdempotencyKey(key): you get the stored
// answer, or the work is finished once.
//
// # Retries
//
// A call retries, with the same key, when an attempt gets:
//
//   - no answer: a refused, reset or dropped connection, a cut body, or a
//     timeout of the attempt (RetryPolicy.AttemptTimeout);
//   - 409 idempotency_key_in_use: an earlier attempt with this key still
//     runs, or crashed and holds its lease;
//   - 425 payment_processing, 429, 503;
//   - another server error: 500, and 502 or 504 from a proxy. These are safe
//     to retry because of the key; the service's own 500 asks for it.
//
// It never retries an answer that says the request is wrong (400, 401, 403,
// 404, 409 payment_intent_unexpected_state, 413, 415, 422): asking again
// would get the same answer. Nor a final business outcome: a declined
// order's 502 payment_failed is stored by the service and replayed.
//
// Waits between attempts grow exponentially with full jitter (RetryPolicy),
// and are never shorter than the answer's Retry-After. A call never sleeps
// past its context's deadline: when the next wait would end after it, the
// call returns the last answer at once. Set a deadline on every call; the
// default policy also stops after 8 attempts.
//
// Reads (GET), and DeleteWebhookEndpoint (deleting twice deletes once),
// send no key and are retried on the same answers. GetPayment,
// which the service answers 425 while an intent is processing, thus waits for
// the charge within the call's context. Health is a probe and never retries.
//
// # Errors
//
// An error answer is an *Error, whatever the route: the HTTP status, the
// envelope's type, code, param and message, the X-Request-Id (quote it to
// find the server's log line), Retry-After, the call's key and attempts.
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == client.CodeAmountTooLarge { … }
//
// A call that got no answer at all returns a *NoAnswerError, which wraps
// the last transport failure and, if it ended, the context's error
// (errors.Is(err, context.DeadlineExceeded) works). For a write the outcome
// is then unknown: call again later with the same key to learn it.
// IsRetryable tells both kinds of transient failure from final ones.
//
// CreateOrder is the one call that returns a result with an error: a
// declined charge gives the order (Status OrderPaymentFailed) and an *Error
// with Code CodePaymentFailed.
//
// # Replays
//
// Every result has a Response field: the status, request id, key, number of
// attempts, and Replayed, true when the answer came from the service's
// idempotency record rather than from doing the work. A call whose first
// attempt did the work but lost its answer (a dropped connection) is
// typically answered by a replay on a later attempt.
//
// # Events and webhooks
//
// Every change of state of an order, payment intent or refund records one
// Event: its type, the object as the change left it (Event.Order,
// Event.PaymentIntent and Event.Refund decode it), the request that caused
// it, and a Sequence that counts the object's changes. ListEvents pages
// them, newest first, by type or object; GetEvent reads one.
//
// CreateWebhookEndpoint subscribes a URL to event types. Its result holds
// the endpoint's signing secret, which the service shows nowhere else. The
// service POSTs each event there, signed as Standard Webhooks asks, and
// retries until the endpoint answers 2xx, so a delivery may come twice,
// late, or out of order. A handler verifies first, then de-duplicates by
// event id, then keeps the highest Sequence per object:
//
//	func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//		if err != nil {
//			http.Error(w, "unreadable", http.StatusBadRequest)
//			return
//		}
//		ev, err := client.VerifyWebhook(h.secret, r.Header, body)
//		if err != nil {
//			http.Error(w, "bad signature", http.StatusBadRequest)
//			return
//		}
//		h.mu.Lock()
//		defer h.mu.Unlock()
//		if h.seen[ev.ID] {
//			return // a duplicate or a redelivery: done already
//		}
//		h.seen[ev.ID] = true
//		if id := ev.ObjectID(); ev.Sequence > h.last[id] {
//			h.last[id] = ev.Sequence
//			// … act on ev
//		}
//	}
//
// ListWebhookDeliveries shows what was sent to an endpoint, attempt by
// attempt; RedeliverEvent sends an event again to every endpoint
// subscribed to its type.
//
// # Admin and faults
//
// Client.Admin returns the admin routes, sent with WithAdminKey's key: the
// mock provider's behavior (failure rates, delays, timeouts), the faults of
// webhook deliveries (duplicated, delayed, reordered, failed and forged
// ones) and, on a service run with FAULTS_ENABLED, its faults (crash
// points, lost responses). They use the same retry rules.
//
// # Options
//
// New takes the base URL and options: WithAPIKey, WithAdminKey,
// WithHTTPClient, WithRetryPolicy, WithObserver (every attempt, for metrics
// or logs), WithKeyGenerator and WithSeed. Each call takes CallOptions:
// IdempotencyKey, Observe (this call's attempts) and WithPolicy (this call's
// retry policy; RetryPolicy{MaxAttempts: 1} sends once).
package client
