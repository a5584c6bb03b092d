package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/idempotency"
	"github.com/reliabledemo/payments/internal/mongostore"
	"github.com/reliabledemo/payments/internal/orders"
	"github.com/reliabledemo/payments/internal/provider"
)

// connect opens the store and checks that it answers.
func connect(ctx context.Context, uri string) (*mongo.Client, error) {
	cl, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(10 * time.Second).SetTimeout(30 * time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(uri), err)
	}
	if err := cl.Ping(ctx, nil); err != nil {
		_ = cl.Disconnect(context.Background())
		return nil, fmt.Errorf("MongoDB at %s does not answer: %w", redact(uri), err)
	}
	return cl, nil
}

// rawRunner issues a first POST /orders' store commands through the store's
// own methods, so the pattern cannot drift from the service's.
type rawRunner struct {
	store *mongostore.Store
	idem  *mongostore.IdempotencyStore
	runID string
}

func newRawRunner(ctx context.Context, db *mongo.Database, runID string) (*rawRunner, error) {
	store := mongostore.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// The service's indexes are part of each write's cost.
	if _, err := store.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	return &rawRunner{store: store, idem: store.Idempotency(), runID: runID}, nil
}

// one is one "request": claim the key, charge, insert the order, record its
// event, complete the key: five _id-keyed commands, in the order orders.Create
// and the idempotency layer issue them.
func (r *rawRunner) one(ctx context.Context, i int) error {
	body := orderBody(i)
	userID, amount := fmt.Sprintf("u%d", i%userCount), int64(100+i%9900)
	scope := idempotency.Scope{Key: fmt.Sprintf("bench-%s-raw%d", r.runID, i), Method: "POST", Path: "/orders", UserID: "bench"}
	fp, err := idempotency.Fingerprint(scope.Method, scope.Path, body)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	rec := idempotency.Record{
		ID: scopeID(scope), Scope: scope, Fingerprint: fp, Status: idempotency.InProgress,
		Owner: domain.NewID("own_"), LeaseUntil: now.Add(30 * time.Second), ResourceID: domain.NewSortableID(now),
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
	}
	existing, err := r.idem.Claim(ctx, rec)
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	if existing != nil {
		return errors.New("claim: the key exists")
	}
	o := domain.Order{ID: rec.ResourceID, UserID: userID, Amount: amount, Currency: "USD", CreatedAt: now, UpdatedAt: now}
	ch, _, err := r.store.RecordCharge(ctx, provider.Charge{
		Key: orders.ChargeKey(o.ID), PaymentID: domain.NewID("pay_"), Amount: amount, Currency: "USD",
		Succeeded: true, CreatedAt: now,
	})
	if err != nil {
		return fmt.Errorf("record charge: %w", err)
	}
	o.Status = domain.OrderPaid
	o.Payment = &domain.Payment{Provider: provider.Name, PaymentID: ch.PaymentID, Amount: amount, Currency: "USD", ChargedAt: now}
	if _, err := r.store.InsertOrder(ctx, o); err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	if e, ok := domain.OrderEvent(o, &domain.RequestRef{ID: "req_bench", IdempotencyKey: scope.Key}); ok {
		if _, err := r.store.InsertEvents(ctx, []domain.Event{e}); err != nil {
			return fmt.Errorf("record the event: %w", err)
		}
	}
	resp := idempotency.Response{Status: 201, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"},
		Body: responseBody(o)}
	ok, err := r.idem.Complete(ctx, rec.ID, rec.Owner, resp, now)
	if err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	if !ok {
		return errors.New("complete: the key was lost")
	}
	return nil
}

// responseBody is an order's JSON as the API answers it, so the stored
// response has a realistic size.
func responseBody(o domain.Order) []byte {
	ts := o.CreatedAt.Format(time.RFC3339Nano)
	return fmt.Appendf(nil, `{"id":%q,"userId":%q,"amount":%d,"currency":%q,"status":%q,`+
		`"payment":{"provider":%q,"paymentId":%q,"amount":%d,"currency":%q,"chargedAt":%q},"createdAt":%q,"updatedAt":%q}`,
		o.ID, o.UserID, o.Amount, o.Currency, o.Status, o.Payment.Provider, o.Payment.PaymentID, o.Amount, o.Currency, ts, ts, ts)
}

// scopeID stands in for the idempotency layer's record id: any stable
// 64-hex-character _id has the same cost.
func scopeID(s idempotency.Scope) string {
	h := sha256.Sum256([]byte(s.Key + "\x00" + s.Method + "\x00" + s.Path + "\x00" + s.UserID))
	return hex.EncodeToString(h[:])
}

// runRaw issues n raw requests from c goroutines.
func runRaw(ctx context.Context, r *rawRunner, n, c int) Result {
	cpu0, cpuErr := selfCPU()
	samples, elapsed := runN(ctx, n, c, func(ctx context.Context, i int) sample {
		t0 := time.Now()
		err := r.one(ctx, i)
		return sample{lat: time.Since(t0), err: err}
	})
	res := summarize(string(ModeRaw), samples, elapsed)
	res.Note = "5 store commands per request, no HTTP"
	// What the driver alone costs its caller for a first POST's commands:
	// the floor of the service's own CPU per first POST, whatever the store.
	if cpu1, err := selfCPU(); cpuErr == nil && err == nil && res.Requests > 0 {
		v := ms(cpu1-cpu0) / float64(res.Requests)
		res.DriverCPUPerReqMs = &v
	}
	return res
}

// prefillBatch is how many documents one insertMany carries.
const prefillBatch = 500

// prefillStore inserts n orders with their charges and completed idempotency
// records straight into the store, shaped as the service stores them (see
// internal/mongostore): a tenth of them PAYMENT_FAILED, users u0…u99.
func prefillStore(ctx context.Context, db *mongo.Database, runID string, n int) error {
	ordersC := db.Collection(mongostore.OrdersCollection)
	chargesC := db.Collection(mongostore.ChargesCollection)
	idemC := db.Collection(mongostore.IdempotencyCollection)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for start := 0; start < n; start += prefillBatch {
		end := min(n, start+prefillBatch)
		var ords, chs, recs []any
		for i := start; i < end; i++ {
			oid := bson.NewObjectID()
			id := oid.Hex()
			userID, amount := fmt.Sprintf("u%d", i%userCount), int64(100+i%9900)
			paid := i%10 != 9
			status, chStatus := domain.OrderPaid, "succeeded"
			payID := domain.NewID("pay_")
			var payment any
			if paid {
				payment = bson.M{"provider": provider.Name, "paymentId": payID, "amount": amount, "currency": "USD", "chargedAt": now}
			} else {
				status, chStatus = domain.OrderPaymentFailed, "failed"
			}
			ords = append(ords, bson.M{"_id": oid, "userId": userID, "amount": amount, "currency": "USD",
				"status": string(status), "payment": payment, "createdAt": now, "updatedAt": now})
			chs = append(chs, bson.M{"_id": orders.ChargeKey(id), "provider": provider.Name, "paymentId": payID,
				"amount": amount, "currency": "USD", "status": chStatus, "createdAt": now})
			scope := idempotency.Scope{Key: fmt.Sprintf("bench-%s-p%d", runID, i), Method: "POST", Path: "/orders", UserID: "bench"}
			recs = append(recs, bson.M{"_id": scopeID(scope), "key": scope.Key, "method": scope.Method, "path": scope.Path,
				"userId": scope.UserID, "requestHash": scopeID(scope), "status": string(idempotency.Completed),
				"owner": domain.NewID("own_"), "leaseUntil": now, "resourceId": id, "attempts": 1,
				"responseStatus": 201, "responseHeaders": bson.M{"Content-Type": "application/json; charset=utf-8"},
				"responseBody": `{"id":"` + id + `"}`, "createdAt": now, "updatedAt": now, "expiresAt": now.Add(24 * time.Hour)})
		}
		for _, b := range []struct {
			c    *mongo.Collection
			docs []any
		}{{ordersC, ords}, {chargesC, chs}, {idemC, recs}} {
			if _, err := b.c.InsertMany(ctx, b.docs); err != nil {
				return fmt.Errorf("prefill %s: %w", b.c.Name(), err)
			}
		}
	}
	return nil
}

// prefillAPI creates n orders through POST /orders.
func prefillAPI(ctx context.Context, cl *client, runID string, n, c int) error {
	samples, _ := runN(ctx, n, c, func(ctx context.Context, i int) sample {
		s, _ := cl.timed(ctx, "POST", "/orders", fmt.Sprintf("bench-%s-p%d", runID, i), orderBody(i))
		return s
	})
	for _, s := range samples {
		if s.err != nil || s.status != 201 {
			return fmt.Errorf("prefill through the API: status %d, err %v", s.status, s.err)
		}
	}
	return ctx.Err()
}

// redact keeps only the scheme and hosts of a MongoDB URI: no credentials,
// no options.
func redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "(unparseable URI)"
	}
	hosts, _, _ := strings.Cut(rest, "/")
	hosts, _, _ = strings.Cut(hosts, "?")
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		hosts = hosts[at+1:]
	}
	return scheme + "://" + hosts
}
