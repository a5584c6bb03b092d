package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/view"
)

type paymentRecordJSON struct {
	PaymentID       string `json:"payment_id"`
	PaymentIntentID string `json:"payment_intent_id"`
	Status          string `json:"status"`
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
	CapturedAmount  int64  `json:"captured_amount"`
	AmountRefunded  int64  `json:"amount_refunded"`
	AuthCode        string `json:"auth_code"`
	ReceiptURL      string `json:"receipt_url"`
}

type refundJSON = view.Refund

func toRefundJSON(r domain.Refund) refundJSON { return view.FromRefund(r) }

func (a *api) getPayment(c *gin.Context) {
	it, err := a.cfg.Intents.GetPayment(c.Request.Context(), c.Param("intentId"))
	if err != nil {
		writeError(c, err)
		return
	}
	p := it.Payment
	c.JSON(http.StatusOK, paymentRecordJSON{
		PaymentID: p.ID, PaymentIntentID: it.ID, Status: string(p.Status), Amount: it.Amount, Currency: it.Currency,
		CapturedAmount: p.CapturedAmount, AmountRefunded: p.AmountRefunded, AuthCode: p.AuthCode, ReceiptURL: p.ReceiptURL,
	})
}

func decodeNewRefund(o object) (domain.NewRefund, error) {
	var in domain.NewRefund
	if err := o.allow("payment_id", "amount", "reason"); err != nil {
		return in, err
	}
	var err error
	if in.PaymentID, err = o.str("payment_id"); err != nil {
		return in, err
	}
	n, present, err := o.int("amount")
	if err != nil {
		return in, err
	}
	if present {
		in.Amount = &n
	}
	reason, err := o.str("reason")
	if err != nil {
		return in, err
	}
	in.Reason = domain.RefundReason(reason)
	return in, in.Validate()
}

func (a *api) createRefund(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	in, err := decodeNewRefund(w.body)
	if err != nil {
		writeError(c, err)
		return
	}
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, rid string) (int, any, error) {
		r, err := a.cfg.Intents.Refund(ctx, rid, in)
		return http.StatusCreated, toRefundJSON(r), err
	}))
}

func (a *api) getRefund(c *gin.Context) {
	r, err := a.cfg.Intents.GetRefund(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toRefundJSON(r))
}
