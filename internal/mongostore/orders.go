package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/domain"
)

type paymentDoc struct {
	Provider  string    `bson:"provider"`
	PaymentID string    `bson:"paymentId"`
	Amount    int64     `bson:"amount"`
	Currency  string    `bson:"currency"`
	ChargedAt time.Time `bson:"chargedAt"`
}

type orderDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	UserID    string        `bson:"userId"`
	Amount    int64         `bson:"amount"`
	Currency  string        `bson:"currency"`
	Status    string        `bson:"status"`
	Payment   *paymentDoc   `bson:"payment"`
	CreatedAt time.Time     `bson:"createdAt"`
	UpdatedAt time.Time     `bson:"updatedAt"`
}

func toPaymentDoc(p *domain.Payment) *paymentDoc {
	if p == nil {
		return nil
	}
	return &paymentDoc{Provider: p.Provider, PaymentID: p.PaymentID, Amount: p.Amount, Currency: p.Currency, ChargedAt: p.ChargedAt}
}

func (d orderDoc) toDomain() domain.Order {
	o := domain.Order{
		ID: d.ID.Hex(), UserID: d.UserID, Amount: d.Amount, Currency: d.Currency,
		Status: domain.OrderStatus(d.Status), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
	if p := d.Payment; p != nil {
		o.Payment = &domain.Payment{Provider: p.Provider, PaymentID: p.PaymentID, Amount: p.Amount, Currency: p.Currency, ChargedAt: p.ChargedAt.UTC()}
	}
	return o
}

// objectID parses an order id; a malformed one cannot exist.
func objectID(id string) (bson.ObjectID, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return oid, domain.ErrNotFound
	}
	return oid, nil
}

func toOrderDoc(o domain.Order) (orderDoc, error) {
	oid, err := objectID(o.ID)
	if err != nil {
		return orderDoc{}, err
	}
	return orderDoc{
		ID: oid, UserID: o.UserID, Amount: o.Amount, Currency: o.Currency, Status: string(o.Status),
		Payment: toPaymentDoc(o.Payment), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}, nil
}

// InsertOrder inserts o. created is false if an order with o.ID exists: a
// retry that took over a crashed request finds the order it already made.
func (s *Store) InsertOrder(ctx context.Context, o domain.Order) (created bool, err error) {
	d, err := toOrderDoc(o)
	if err != nil {
		return false, err
	}
	_, err = s.orders.InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, translate(err)
}

// GetOrder returns the order with id, or domain.ErrNotFound.
func (s *Store) GetOrder(ctx context.Context, id string) (domain.Order, error) {
	oid, err := objectID(id)
	if err != nil {
		return domain.Order{}, err
	}
	var d orderDoc
	if err := s.orders.FindOne(ctx, bson.M{"_id": oid}).Decode(&d); err != nil {
		return domain.Order{}, translate(err)
	}
	return d.toDomain(), nil
}

// SettleOrder moves a CREATED order to its final status. It reports false if
// the order was not CREATED any more: another attempt settled it first. New
// orders are inserted settled; only orders left CREATED by an older version
// of the service still need it.
func (s *Store) SettleOrder(ctx context.Context, id string, status domain.OrderStatus, p *domain.Payment, now time.Time) (bool, error) {
	oid, err := objectID(id)
	if err != nil {
		return false, err
	}
	res, err := s.orders.UpdateOne(ctx,
		bson.M{"_id": oid, "status": string(domain.OrderCreated)},
		bson.M{"$set": bson.M{"status": string(status), "payment": toPaymentDoc(p), "updatedAt": now}})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}

// ListOrders returns orders newest first; ids are time-ordered ObjectIds, so
// sorting by _id is sorting by creation.
func (s *Store) ListOrders(ctx context.Context, f domain.OrderFilter) ([]domain.Order, bool, error) {
	filter := bson.M{}
	if f.UserID != "" {
		filter["userId"] = f.UserID
	}
	if f.Status != "" {
		filter["status"] = string(f.Status)
	}
	if f.StartingAfter != "" {
		oid, err := objectID(f.StartingAfter)
		if err != nil {
			return nil, false, err
		}
		filter["_id"] = bson.M{"$lt": oid}
	} else {
		// Order ids are all ObjectIds, so this matches every order. It
		// tells the embedded store that sorting by _id in SQL is sound (ids
		// of mixed types would sort differently there), so the first page
		// reads 21 rows instead of sorting the collection in memory.
		// MongoDB answers it from the same _id index.
		filter["_id"] = bson.M{"$type": "objectId"}
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(f.Limit) + 1)
	cur, err := s.orders.Find(ctx, filter, opts)
	if err != nil {
		return nil, false, translate(err)
	}
	var docs []orderDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, translate(err)
	}
	hasMore := len(docs) > f.Limit
	if hasMore {
		docs = docs[:f.Limit]
	}
	out := make([]domain.Order, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	return out, hasMore, nil
}
