package drill

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The documents the checks read, with only the fields they need. The shapes
// follow internal/mongostore; they are copied, not imported, because the
// drill checks the database as an outsider would.
type (
	orderDoc struct {
		ID      bson.ObjectID `bson:"_id"`
		UserID  string        `bson:"userId"`
		Amount  int64         `bson:"amount"`
		Status  string        `bson:"status"`
		Payment *struct {
			PaymentID string `bson:"paymentId"`
			Amount    int64  `bson:"amount"`
		} `bson:"payment"`
	}
	chargeDoc struct {
		ID        string `bson:"_id"`
		Status    string `bson:"status"`
		Amount    int64  `bson:"amount"`
		PaymentID string `bson:"paymentId"`
	}
	intentDoc struct {
		ID             string   `bson:"_id"`
		CustomerID     string   `bson:"customerId"`
		Status         string   `bson:"status"`
		Amount         int64    `bson:"amount"`
		PaymentID      string   `bson:"paymentId"`
		PaymentStatus  string   `bson:"paymentStatus"`
		CapturedAmount int64    `bson:"capturedAmount"`
		AmountRefunded int64    `bson:"amountRefunded"`
		Refundable     int64    `bson:"refundable"`
		RefundIDs      []string `bson:"refundIds"`
		Sequence       int64    `bson:"sequence"`
	}
	refundDoc struct {
		ID              string `bson:"_id"`
		PaymentIntentID string `bson:"paymentIntentId"`
		Amount          int64  `bson:"amount"`
		Status          string `bson:"status"`
	}
	eventDoc struct {
		ID       bson.ObjectID `bson:"_id"`
		Type     string        `bson:"type"`
		ObjectID string        `bson:"objectId"`
		Sequence int64         `bson:"sequence"`
		Data     struct {
			Object struct {
				Status string `bson:"status"`
			} `bson:"object"`
		} `bson:"data"`
	}
	keyDoc struct {
		ID         string    `bson:"_id"`
		Key        string    `bson:"key"`
		Method     string    `bson:"method"`
		Path       string    `bson:"path"`
		Status     string    `bson:"status"`
		LeaseUntil time.Time `bson:"leaseUntil"`
		ResourceID string    `bson:"resourceId"`
	}
)

// Collection names and values, as internal/mongostore and
// internal/idempotency spell them.
const (
	collOrders  = "orders"
	collCharges = "charges"
	collKeys    = "idempotencykeys"
	collIntents = "paymentintents"
	collJobs    = "intentjobs"
	collRefunds = "refunds"
	collEvents  = "events"

	keyInProgress = "IN_PROGRESS"
)

// snapshot is every document of one run, read after its payments ended.
type snapshot struct {
	prefix  string
	orders  []orderDoc
	intents []intentDoc
	charges map[string]chargeDoc // by _id, the charge key
	jobs    map[string]bool      // intent ids with a pending job
	refunds []refundDoc
	keys    []keyDoc
	events  map[string][]eventDoc // by object id
}

// inChunk bounds $in lists, to stay far from any server's limits.
const inChunk = 500

// load reads the run's documents. Orders, intents and keys are found by the
// run's prefix (a regex on a prefix: this is no hot path); charges, jobs and
// refunds by the ids those name, so that a charge for an order or intent
// that does not exist is found too.
func load(ctx context.Context, db *mongo.Database, prefix string, results []Result) (snapshot, error) {
	s := snapshot{prefix: prefix, charges: map[string]chargeDoc{}, jobs: map[string]bool{}, events: map[string][]eventDoc{}}
	re := bson.M{"$regex": bson.Regex{Pattern: "^" + regexp.QuoteMeta(prefix)}}
	if err := find(ctx, db, collOrders, bson.M{"userId": re}, &s.orders); err != nil {
		return s, err
	}
	if err := find(ctx, db, collIntents, bson.M{"customerId": re}, &s.intents); err != nil {
		return s, err
	}
	if err := find(ctx, db, collKeys, bson.M{"key": re}, &s.keys); err != nil {
		return s, err
	}

	chargeIDs := map[string]bool{}
	intentIDs := map[string]bool{}
	for _, o := range s.orders {
		chargeIDs[orderChargeKey(o.ID.Hex())] = true
	}
	for _, it := range s.intents {
		intentIDs[it.ID] = true
	}
	for i := range results {
		if id := results[i].IntentID; id != "" {
			intentIDs[id] = true
		}
	}
	for _, k := range s.keys {
		switch {
		case k.Method == "POST" && k.Path == "/orders":
			chargeIDs[orderChargeKey(k.ResourceID)] = true
		case k.Method == "POST" && k.Path == "/payment_intents":
			intentIDs["pi_"+k.ResourceID] = true
		}
	}
	for id := range intentIDs {
		chargeIDs[id] = true // an intent's charge key is its id
	}

	var charges []chargeDoc
	if err := findIn(ctx, db, collCharges, "_id", slices.Collect(maps.Keys(chargeIDs)), &charges); err != nil {
		return s, err
	}
	for _, c := range charges {
		s.charges[c.ID] = c
	}
	var jobs []struct {
		ID string `bson:"_id"`
	}
	if err := findIn(ctx, db, collJobs, "_id", slices.Collect(maps.Keys(intentIDs)), &jobs); err != nil {
		return s, err
	}
	for _, j := range jobs {
		s.jobs[j.ID] = true
	}
	if err := findIn(ctx, db, collRefunds, "paymentIntentId", slices.Collect(maps.Keys(intentIDs)), &s.refunds); err != nil {
		return s, err
	}
	if err := recheck(ctx, db, &s); err != nil {
		return s, err
	}
	// Events last: an object read above has all the events of the state it
	// was read in, or the work that records them is still pending.
	objectIDs := slices.Collect(maps.Keys(intentIDs))
	for _, o := range s.orders {
		objectIDs = append(objectIDs, o.ID.Hex())
	}
	for _, rf := range s.refunds {
		objectIDs = append(objectIDs, rf.ID)
	}
	var evs []eventDoc
	if err := findIn(ctx, db, collEvents, "objectId", objectIDs, &evs); err != nil {
		return s, err
	}
	for _, e := range evs {
		s.events[e.ObjectID] = append(s.events[e.ObjectID], e)
	}
	return s, nil
}

// recheck reads again the intents seen processing without a job. Workers
// go on after the drill stops (for payments cut short), so an intent read
// as processing may have finished, and its job been deleted, before the
// jobs were read. Reading the job first and the intent second, an intent
// still processing then really has lost its job: workers delete the job of
// a processing intent only after moving the intent on.
func recheck(ctx context.Context, db *mongo.Database, s *snapshot) error {
	var ids []string
	for _, it := range s.intents {
		if it.Status == "processing" && !s.jobs[it.ID] {
			ids = append(ids, it.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var jobs []struct {
		ID string `bson:"_id"`
	}
	if err := findIn(ctx, db, collJobs, "_id", ids, &jobs); err != nil {
		return err
	}
	for _, j := range jobs {
		s.jobs[j.ID] = true
	}
	var fresh []intentDoc
	if err := findIn(ctx, db, collIntents, "_id", ids, &fresh); err != nil {
		return err
	}
	var charges []chargeDoc
	if err := findIn(ctx, db, collCharges, "_id", ids, &charges); err != nil {
		return err
	}
	for _, c := range charges {
		s.charges[c.ID] = c
	}
	for _, f := range fresh {
		for i := range s.intents {
			if s.intents[i].ID == f.ID {
				s.intents[i] = f
			}
		}
	}
	return nil
}

// orderChargeKey is the provider charge key of an order (orders.ChargeKey).
func orderChargeKey(orderID string) string { return "order_" + orderID }

func find[T any](ctx context.Context, db *mongo.Database, coll string, filter bson.M, out *[]T) error {
	cur, err := db.Collection(coll).Find(ctx, filter)
	if err != nil {
		return fmt.Errorf("find in %s: %w", coll, err)
	}
	var docs []T
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("read %s: %w", coll, err)
	}
	*out = append(*out, docs...)
	return nil
}

// findIn appends the documents of coll whose field is one of values.
func findIn[T any](ctx context.Context, db *mongo.Database, coll, field string, values []string, out *[]T) error {
	for len(values) > 0 {
		n := min(len(values), inChunk)
		if err := find(ctx, db, coll, bson.M{field: bson.M{"$in": values[:n]}}, out); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}
