// Package paymentstest runs the payments service inside a Go test, so that
// you can test your own client's retry logic against the real thing: the
// real HTTP API, idempotency layer, worker and mock provider, on a real
// MongoDB-wire store, with failures injected on demand.
//
// # Quick start
//
//	func TestCheckout(t *testing.T) {
//		svc := paymentstest.New(t) // ~0.2 s; stopped when the test ends
//		order, err := svc.Client.CreateOrder(t.Context(), client.OrderParams{
//			UserID: "u1", Amount: 500, Currency: "USD",
//		})
//		…
//	}
//
// New starts, on a loopback port of its own:
//
//   - an embedded MongoDB-compatible store (FerretDB on SQLite, in the
//     test's temporary directory; MongoURI and Database point at it);
//   - the service itself (internal/app, as cmd/server runs it), on URL;
//   - a ready client.Client (Client) and its admin routes (Admin), with the
//     keys APIKey and AdminKey.
//
// Everything stops on t.Cleanup. Each Service is independent, so tests may
// run in parallel. Without a testing.TB (a TestMain sharing one service
// among a package's tests, an example), Start and Close do the same.
//
// # Defaults
//
// The service runs as in production, except where a test needs speed or
// determinism: charges take 0–20 ms and never fail, intents are charged
// within 50 ms of their confirm, the idempotency lease is 2 s, the rate
// limit is off, and FAULTS_ENABLED is on. Options change them:
// WithBehavior (the mock provider), WithDropResponseRate (lost responses),
// WithIdempotencyLease, WithRecoveryAfter, WithWorkerLease, WithRateLimit,
// and WithEnv for any variable of the server's configuration.
//
// # Injecting failures
//
// Through the Admin client, at any moment:
//
//   - Admin.SetPaymentBehavior: decline a share of charges (failureRate,
//     intentFailureRate), slow the provider (minDelayMs, maxDelayMs), make
//     it time out (timeoutRate);
//   - Admin.SetFaults: lose a share of committed responses
//     (drop_response_rate), or arm a crash point (crash_at), where the
//     next request to reach it crashes the service;
//   - Admin.SetWebhookFaults: duplicate, delay, reorder, fail or forge
//     webhook deliveries, to drill a consumer. Loopback URLs are allowed,
//     so the test's own server on 127.0.0.1 can be the endpoint.
//
// And Service.Crash crashes it at once.
//
// # What a crash is, in-process
//
// A crashed Service behaves, from outside, like a killed process that a
// supervisor restarts: its port closes, every open connection is cut
// without an answer, the goroutine that reached the crash point stops there
// (nothing after the crash point runs, so a request that crashed after the
// charge leaves its idempotency key claimed and its response unstored),
// the crashed instance's heartbeats stop, so its leases run out, and in-memory
// state is lost (armed crash points; the drop rate is set again from
// WithDropResponseRate). After the restart delay (WithRestartDelay) a new
// instance starts on the same address and store, as a restarted process
// would; Crashes counts them.
//
// What it does not model: the other requests in flight on the crashed
// instance are not stopped mid-way. Their connections are cut, so their
// clients see no answer, but their goroutines run to the end, and the work
// they were doing is done and stored, as if the crash had come just after
// it. Likewise the crashed instance's worker finishes the jobs it holds. A
// real crash could also stop those between two writes; the crash points are
// where that matters, and each is exercised by the request that reaches it.
// The store never crashes: it is a separate server, as MongoDB would be.
//
// # Proving exactly-once in MongoDB
//
// DB returns the service's database, through the MongoDB Go driver. Each
// order is a document of OrdersCollection (with its userId), and the mock
// provider records each charge in ChargesCollection, under
// OrderChargeID(order ID): one order and one charge per logical payment is
// the proof that retries, lost responses and crashes did not pay twice.
//
//	db := svc.DB(t)
//	n, _ := db.Collection(paymentstest.OrdersCollection).CountDocuments(ctx, bson.M{"userId": "u1"})
//
// # Examples
//
// ExampleStart, Example_droppedResponses and Example_crash run as tests, and
// exactlyonce_test.go in this package reads as your own test would: a
// checkout function pays through the client while charges time out, the
// provider is slow, carts are submitted twice, responses are lost and the
// service crashes, and each time MongoDB shows one order and one charge per
// cart.
//
// # Other ways to run the service
//
// The same service runs as a container (package
// github.com/reliabledemo/payments/paymentstest/container, which starts
// the image of `make image` with testcontainers-go) or as a binary
// (`make build`, then bin/server with FAULTS_ENABLED=true); point a
// client.Client at either. See the README, "Testing your own client".
package paymentstest
