package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/domain"
)

// EventsCollection holds events, one per state change. Their _id is the
// ObjectId in the event id (domain.EventID): time-ordered, so the newest
// come first along the _id index, on MongoDB and on the embedded store
// alike, and derived from (object, sequence), so recording an event twice
// meets a duplicate key.
const EventsCollection = "events"

type requestRefDoc struct {
	ID             string `bson:"id"`
	IdempotencyKey string `bson:"idempotencyKey"`
}

// eventDoc is an event as stored, in the events collection and in the
// event history of a payment intent. data.object is the object as its own
// collection stores it; objectType says which.
type eventDoc struct {
	ID         bson.ObjectID  `bson:"_id"`
	Type       string         `bson:"type"`
	ObjectType string         `bson:"objectType"`
	ObjectID   string         `bson:"objectId"`
	Sequence   int64          `bson:"sequence"`
	Created    time.Time      `bson:"created"`
	Request    *requestRefDoc `bson:"request"`
	Data       struct {
		Object bson.Raw `bson:"object"`
	} `bson:"data"`
}

// eventObjectID is the ObjectId in an event id.
func eventObjectID(id string) (bson.ObjectID, error) {
	hex, ok := strings.CutPrefix(id, domain.EventIDPrefix)
	oid, err := bson.ObjectIDFromHex(hex)
	if !ok || err != nil {
		return oid, domain.ErrNotFound
	}
	return oid, nil
}

func toEventDoc(e domain.Event) (eventDoc, error) {
	oid, err := eventObjectID(e.ID)
	if err != nil {
		return eventDoc{}, fmt.Errorf("event id %q is not evt_ and an ObjectId", e.ID)
	}
	d := eventDoc{ID: oid, Type: string(e.Type), ObjectType: e.Type.ObjectKind(), ObjectID: e.ObjectID,
		Sequence: e.Sequence, Created: e.Created}
	if r := e.Request; r != nil {
		d.Request = &requestRefDoc{ID: r.ID, IdempotencyKey: r.IdempotencyKey}
	}
	var obj any
	switch {
	case e.Order != nil:
		od, err := toOrderDoc(*e.Order)
		if err != nil {
			return eventDoc{}, err
		}
		obj = od
	case e.Intent != nil:
		obj = toIntentDoc(*e.Intent)
	case e.Refund != nil:
		obj = toRefundDoc(*e.Refund)
	default:
		return eventDoc{}, fmt.Errorf("event %s has no object", e.ID)
	}
	if d.Data.Object, err = bson.Marshal(obj); err != nil {
		return eventDoc{}, err
	}
	return d, nil
}

func (d eventDoc) toDomain() (domain.Event, error) {
	e := domain.Event{ID: domain.EventIDPrefix + d.ID.Hex(), Type: domain.EventType(d.Type), Created: d.Created.UTC(),
		ObjectID: d.ObjectID, Sequence: d.Sequence}
	if r := d.Request; r != nil {
		e.Request = &domain.RequestRef{ID: r.ID, IdempotencyKey: r.IdempotencyKey}
	}
	var err error
	switch d.ObjectType {
	case domain.ObjectOrder:
		var od orderDoc
		err = bson.Unmarshal(d.Data.Object, &od)
		o := od.toDomain()
		e.Order = &o
	case domain.ObjectIntent:
		var id intentDoc
		err = bson.Unmarshal(d.Data.Object, &id)
		it := id.toDomain()
		e.Intent = &it
	case domain.ObjectRefund:
		var rd refundDoc
		err = bson.Unmarshal(d.Data.Object, &rd)
		r := rd.toDomain()
		e.Refund = &r
	default:
		err = fmt.Errorf("event %s: unknown object type %q", e.ID, d.ObjectType)
	}
	return e, err
}

// InsertEvents records evs in one command. created[i] is false if evs[i]
// was recorded already: an earlier attempt of the same change got there
// first, and that record stands. The insert is unordered, so one duplicate
// does not stop the others.
func (s *Store) InsertEvents(ctx context.Context, evs []domain.Event) (created []bool, err error) {
	docs := make([]any, len(evs))
	for i, e := range evs {
		if docs[i], err = toEventDoc(e); err != nil {
			return nil, err
		}
	}
	created = make([]bool, len(evs))
	if len(evs) == 0 {
		return created, nil
	}
	_, err = s.db.Collection(EventsCollection).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	for i := range created {
		created[i] = err == nil
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil {
		for i := range created {
			created[i] = true
		}
		for _, we := range bwe.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) || we.Index < 0 || we.Index >= len(evs) {
				return nil, translate(err)
			}
			created[we.Index] = false
		}
		return created, nil
	}
	return created, translate(err)
}

// GetEvent returns the event with id, or domain.ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, id string) (domain.Event, error) {
	oid, err := eventObjectID(id)
	if err != nil {
		return domain.Event{}, err
	}
	var d eventDoc
	if err := s.db.Collection(EventsCollection).FindOne(ctx, bson.M{"_id": oid}).Decode(&d); err != nil {
		return domain.Event{}, translate(err)
	}
	return d.toDomain()
}

// ListEvents returns events newest first. The _id bound (a cursor, or the
// type check, which every event id passes) lets the embedded store sort and
// limit in SQL, as ListOrders does.
func (s *Store) ListEvents(ctx context.Context, f domain.EventFilter) ([]domain.Event, bool, error) {
	filter := bson.M{"_id": bson.M{"$type": "objectId"}}
	if f.Type != "" {
		filter["type"] = string(f.Type)
	}
	if f.ObjectID != "" {
		filter["objectId"] = f.ObjectID
	}
	if f.StartingAfter != "" {
		oid, err := eventObjectID(f.StartingAfter)
		if err != nil {
			return nil, false, err
		}
		filter["_id"] = bson.M{"$lt": oid}
	}
	cur, err := s.db.Collection(EventsCollection).Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(f.Limit)+1))
	if err != nil {
		return nil, false, translate(err)
	}
	var docs []eventDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, translate(err)
	}
	more := len(docs) > f.Limit
	if more {
		docs = docs[:f.Limit]
	}
	out := make([]domain.Event, len(docs))
	for i, d := range docs {
		if out[i], err = d.toDomain(); err != nil {
			return nil, false, err
		}
	}
	return out, more, nil
}
