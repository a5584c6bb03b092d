package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/view"
)

type (
	paymentErrorJSON = view.PaymentError
	intentJSON       = view.Intent
)

func toIntentJSON(it domain.Intent) intentJSON { return view.FromIntent(it) }

func decodeNewIntent(o object) (domain.NewIntent, error) {
	var in domain.NewIntent
	if err := o.allow("amount", "currency", "customer_id", "payment_method_id", "capture_method", "metadata"); err != nil {
		return in, err
	}
	var err error
	var method string
	if in.Amount, _, err = o.int("amount"); err != nil {
		return in, err
	}
	if in.Currency, err = o.str("currency"); err != nil {
		return in, err
	}
	if in.CustomerID, err = o.str("customer_id"); err != nil {
		return in, err
	}
	if in.PaymentMethodID, err = o.str("payment_method_id"); err != nil {
		return in, err
	}
	if method, err = o.str("capture_method"); err != nil {
		return in, err
	}
	in.CaptureMethod = domain.CaptureMethod(method)
	if o.present("metadata") {
		// Only a flat object of strings: nested values are refused by type.
		if err := json.Unmarshal(o["metadata"], &in.Metadata); err != nil {
			return in, domain.Invalid("metadata", "invalid_metadata", "metadata must be an object whose values are strings.")
		}
	}
	return in, in.Validate()
}

func (a *api) createIntent(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	in, err := decodeNewIntent(w.body)
	if err != nil {
		writeError(c, err)
		return
	}
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, rid string) (int, any, error) {
		it, err := a.cfg.Intents.Create(ctx, rid, in)
		return http.StatusCreated, toIntentJSON(it), err
	}))
}

func (a *api) getIntent(c *gin.Context) {
	it, err := a.cfg.Intents.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toIntentJSON(it))
}

func (a *api) confirmIntent(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	var conf domain.Confirmation
	switch force, present := c.GetQuery("force"); {
	case !present:
	case force == "failure":
		conf.ForceFailure = true
	default:
		writeError(c, domain.Invalid("force", "invalid_force", "force may only be 'failure'."))
		return
	}
	if err := w.body.allow("payment_method_id"); err != nil {
		writeError(c, err)
		return
	}
	pm, err := w.body.str("payment_method_id")
	if err == nil && pm != "" {
		err = domain.ValidatePaymentMethod("payment_method_id", pm)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	conf.PaymentMethodID = pm
	id := c.Param("id")
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, rid string) (int, any, error) {
		it, err := a.cfg.Intents.Confirm(ctx, rid, id, conf)
		return http.StatusAccepted, gin.H{"id": it.ID, "status": string(domain.IntentProcessing)}, err
	}))
}

func (a *api) captureIntent(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	if err := w.body.allow("amount_to_capture"); err != nil {
		writeError(c, err)
		return
	}
	n, present, err := w.body.int("amount_to_capture")
	if err != nil {
		writeError(c, err)
		return
	}
	var amount *int64
	if present {
		if err := domain.ValidateAmount("amount_to_capture", n); err != nil {
			writeError(c, err)
			return
		}
		amount = &n
	}
	id := c.Param("id")
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, rid string) (int, any, error) {
		it, err := a.cfg.Intents.Capture(ctx, rid, id, amount)
		return http.StatusOK, toIntentJSON(it), err
	}))
}

func (a *api) cancelIntent(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	if err := w.body.allow("cancellation_reason"); err != nil {
		writeError(c, err)
		return
	}
	reason, err := w.body.str("cancellation_reason")
	if err == nil && reason != "" && !domain.CancellationReasons[reason] {
		err = domain.Invalid("cancellation_reason", "invalid_cancellation_reason", "cancellation_reason must be duplicate, fraudulent, requested_by_customer or abandoned.")
	}
	if err != nil {
		writeError(c, err)
		return
	}
	id := c.Param("id")
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, rid string) (int, any, error) {
		it, err := a.cfg.Intents.Cancel(ctx, rid, id, reason)
		return http.StatusOK, toIntentJSON(it), err
	}))
}
