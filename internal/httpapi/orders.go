package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/view"
)

// The response shapes live in internal/view, shared with webhook bodies.
type (
	paymentJSON = view.Payment
	orderJSON   = view.Order
)

func toOrderJSON(o domain.Order) orderJSON { return view.FromOrder(o) }

// paymentFailedJSON is the 502 body: the error format plus the order, so
// the client sees both why and what was recorded.
type paymentFailedJSON struct {
	Error errorJSON `json:"error"`
	Order orderJSON `json:"order"`
}

// Messages reused by tests.
const msgPaymentFailed = "The payment provider declined the charge. The order is recorded as PAYMENT_FAILED; create a new order, with a new Idempotency-Key, to try again."

func decodeNewOrder(o object) (domain.NewOrder, error) {
	if err := o.allow("userId", "amount", "currency"); err != nil {
		return domain.NewOrder{}, err
	}
	var in domain.NewOrder
	var err error
	if in.UserID, err = o.str("userId"); err != nil {
		return in, err
	}
	if in.Amount, _, err = o.int("amount"); err != nil {
		return in, err
	}
	if in.Currency, err = o.str("currency"); err != nil {
		return in, err
	}
	return in, in.Validate()
}

func (a *api) createOrder(c *gin.Context) {
	w, ok := a.beginWrite(c)
	if !ok {
		return
	}
	in, err := decodeNewOrder(w.body)
	if err != nil {
		writeError(c, err)
		return
	}
	a.runWrite(c, w, in.UserID, respond(func(ctx context.Context, id string) (int, any, error) {
		o, err := a.cfg.Orders.Create(ctx, id, in)
		if err != nil {
			return 0, nil, err
		}
		if o.Status == domain.OrderPaymentFailed {
			return http.StatusBadGateway, paymentFailedJSON{
				Error: failed(domain.KindPaymentFailed, "payment_failed", msgPaymentFailed),
				Order: toOrderJSON(o),
			}, nil
		}
		return http.StatusCreated, toOrderJSON(o), nil
	}))
}

func (a *api) getOrder(c *gin.Context) {
	o, err := a.cfg.Orders.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrderJSON(o))
}

func (a *api) listOrders(c *gin.Context) {
	f := domain.OrderFilter{
		UserID:        c.Query("userId"),
		Status:        domain.OrderStatus(c.Query("status")),
		StartingAfter: c.Query("starting_after"),
	}
	f.Limit = limitParam(c)
	orders, more, err := a.cfg.Orders.List(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]orderJSON, len(orders))
	for i, o := range orders {
		out[i] = toOrderJSON(o)
	}
	c.JSON(http.StatusOK, gin.H{"orders": out, "has_more": more})
}
