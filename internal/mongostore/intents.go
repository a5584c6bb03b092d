package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/reliabledemo/payments/internal/domain"
)

// IntentsCollection holds payment intents, each with its payment inline, so
// that every transition, capture and refund is one conditional update of
// one document.
const IntentsCollection = "paymentintents"

type paymentErrorDoc struct {
	Type    string `bson:"type"`
	Code    string `bson:"code"`
	Message string `bson:"message"`
}

// intentDoc is an intent as stored. Payment fields are flat and always
// present, so a transition can set them with plain $set and the refund
// guard can compare refundable without $expr.
type intentDoc struct {
	ID                 string            `bson:"_id"`
	ClientSecret       string            `bson:"clientSecret"`
	Amount             int64             `bson:"amount"`
	Currency           string            `bson:"currency"`
	CustomerID         string            `bson:"customerId"`
	PaymentMethodID    string            `bson:"paymentMethodId"`
	CaptureMethod      string            `bson:"captureMethod"`
	Metadata           map[string]string `bson:"metadata"`
	Status             string            `bson:"status"`
	ForceFailure       bool              `bson:"forceFailure"`
	LastPaymentError   *paymentErrorDoc  `bson:"lastPaymentError"`
	CancellationReason string            `bson:"cancellationReason"`
	AmountReceived     int64             `bson:"amountReceived"`
	LastRequest        string            `bson:"lastRequest"`

	PaymentID      string   `bson:"paymentId"`
	PaymentStatus  string   `bson:"paymentStatus"`
	CapturedAmount int64    `bson:"capturedAmount"`
	AmountRefunded int64    `bson:"amountRefunded"`
	Refundable     int64    `bson:"refundable"`
	RefundIDs      []string `bson:"refundIds"`
	AuthCode       string   `bson:"authCode"`
	ReceiptURL     string   `bson:"receiptUrl"`

	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`

	// sequence and events: the intent's changes of status and their events,
	// written with each change (domain.Intent.Events says why).
	Sequence int64      `bson:"sequence"`
	Events   []eventDoc `bson:"events,omitempty"`
}

func toIntentDoc(in domain.Intent) intentDoc {
	d := intentDoc{
		ID: in.ID, ClientSecret: in.ClientSecret, Amount: in.Amount, Currency: in.Currency,
		CustomerID: in.CustomerID, PaymentMethodID: in.PaymentMethodID, CaptureMethod: string(in.CaptureMethod),
		Metadata: in.Metadata, Status: string(in.Status), ForceFailure: in.ForceFailure,
		CancellationReason: in.CancellationReason, AmountReceived: in.AmountReceived, LastRequest: in.LastRequestID,
		RefundIDs: in.RefundIDs, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, Sequence: in.Sequence,
	}
	if p := in.Payment; p != nil {
		d.PaymentID, d.PaymentStatus, d.CapturedAmount, d.AmountRefunded = p.ID, string(p.Status), p.CapturedAmount, p.AmountRefunded
		d.Refundable, d.AuthCode, d.ReceiptURL = p.Refundable, p.AuthCode, p.ReceiptURL
	}
	if e := in.LastPaymentError; e != nil {
		d.LastPaymentError = &paymentErrorDoc{Type: e.Type, Code: e.Code, Message: e.Message}
	}
	for _, e := range in.Events {
		ed, err := toEventDoc(e)
		if err != nil {
			panic(err) // an intent's own events always have an intent and an evt_ id
		}
		d.Events = append(d.Events, ed)
	}
	if d.Metadata == nil {
		d.Metadata = map[string]string{}
	}
	if d.RefundIDs == nil {
		d.RefundIDs = []string{}
	}
	return d
}

func (d intentDoc) toDomain() domain.Intent {
	in := domain.Intent{
		ID: d.ID, ClientSecret: d.ClientSecret, Amount: d.Amount, Currency: d.Currency,
		CustomerID: d.CustomerID, PaymentMethodID: d.PaymentMethodID, CaptureMethod: domain.CaptureMethod(d.CaptureMethod),
		Metadata: d.Metadata, Status: domain.IntentStatus(d.Status), ForceFailure: d.ForceFailure,
		CancellationReason: d.CancellationReason, AmountReceived: d.AmountReceived, LastRequestID: d.LastRequest,
		RefundIDs: d.RefundIDs, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Sequence: d.Sequence,
	}
	for _, ed := range d.Events {
		if e, err := ed.toDomain(); err == nil {
			in.Events = append(in.Events, e)
		}
	}
	if e := d.LastPaymentError; e != nil {
		in.LastPaymentError = &domain.PaymentError{Type: e.Type, Code: e.Code, Message: e.Message}
	}
	if d.PaymentID != "" {
		in.Payment = &domain.IntentPayment{
			ID: d.PaymentID, Status: domain.PaymentStatus(d.PaymentStatus), CapturedAmount: d.CapturedAmount,
			AmountRefunded: d.AmountRefunded, Refundable: d.Refundable, AuthCode: d.AuthCode, ReceiptURL: d.ReceiptURL,
		}
	}
	return in
}

// InsertIntent inserts in; created is false if its id exists already (a
// retried create after a crash).
func (s *Store) InsertIntent(ctx context.Context, in domain.Intent) (bool, error) {
	_, err := s.db.Collection(IntentsCollection).InsertOne(ctx, toIntentDoc(in))
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, translate(err)
}

// GetIntent returns the intent with id, or domain.ErrNotFound.
func (s *Store) GetIntent(ctx context.Context, id string) (domain.Intent, error) {
	var d intentDoc
	if err := s.db.Collection(IntentsCollection).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return domain.Intent{}, translate(err)
	}
	return d.toDomain(), nil
}

// TransitionIntent replaces the intent with next, which domain.Intent.Next
// made from the intent as read in status from, if the intent is still in
// from: a compare-and-swap on the status, in one findAndModify. ok is false
// if it was not. The whole document is written, its new event included, so
// the event survives even if the process dies before recording it.
func (s *Store) TransitionIntent(ctx context.Context, from domain.IntentStatus, next domain.Intent) (domain.Intent, bool, error) {
	var d intentDoc
	err := s.db.Collection(IntentsCollection).FindOneAndReplace(ctx, bson.M{"_id": next.ID, "status": string(from)},
		toIntentDoc(next), options.FindOneAndReplace().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.Intent{}, false, nil
	}
	if err != nil {
		return domain.Intent{}, false, translate(err)
	}
	return d.toDomain(), true, nil
}

// ApplyRefund takes amount off the intent's refundable balance, once per
// refund id, in one conditional update: the filter is the guard, so
// concurrent refunds can never together exceed what was captured.
func (s *Store) ApplyRefund(ctx context.Context, intentID, refundID string, amount int64, now time.Time) (bool, error) {
	res, err := s.db.Collection(IntentsCollection).UpdateOne(ctx,
		bson.M{
			"_id":           intentID,
			"paymentStatus": string(domain.PaymentSucceeded),
			"refundable":    bson.M{"$gte": amount},
			"refundIds":     bson.M{"$ne": refundID},
		},
		bson.M{
			"$inc":  bson.M{"refundable": -amount, "amountRefunded": amount},
			"$push": bson.M{"refundIds": refundID},
			"$set":  bson.M{"updatedAt": now},
		})
	if err != nil {
		return false, translate(err)
	}
	return res.MatchedCount == 1, nil
}
