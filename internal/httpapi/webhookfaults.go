package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
)

type webhookFaultsJSON struct {
	DuplicateRate   float64 `json:"duplicateRate"`
	DelayMs         int     `json:"delayMs"`
	JitterMs        int     `json:"jitterMs"`
	ReorderWindowMs int     `json:"reorderWindowMs"`
	FailRate        float64 `json:"failRate"`
	ForgedRate      float64 `json:"forgedRate"`
}

func toWebhookFaultsJSON(f domain.WebhookFaults) webhookFaultsJSON {
	return webhookFaultsJSON{DuplicateRate: f.DuplicateRate, DelayMs: f.DelayMs, JitterMs: f.JitterMs,
		ReorderWindowMs: f.ReorderWindowMs, FailRate: f.FailRate, ForgedRate: f.ForgedRate}
}

// decodeWebhookFaultsPatch reads a partial update, as decodeBehaviorPatch.
func decodeWebhookFaultsPatch(o object) (domain.WebhookFaultsPatch, error) {
	var p domain.WebhookFaultsPatch
	if err := o.allow("duplicateRate", "delayMs", "jitterMs", "reorderWindowMs", "failRate", "forgedRate"); err != nil {
		return p, err
	}
	for name, dst := range map[string]**float64{"duplicateRate": &p.DuplicateRate, "failRate": &p.FailRate, "forgedRate": &p.ForgedRate} {
		f, ok, err := o.float(name)
		if err != nil {
			return p, err
		}
		if ok {
			*dst = &f
		}
	}
	for name, dst := range map[string]**int{"delayMs": &p.DelayMs, "jitterMs": &p.JitterMs, "reorderWindowMs": &p.ReorderWindowMs} {
		n, ok, err := o.int(name)
		if err != nil {
			return p, err
		}
		if ok {
			v := clampInt(n)
			*dst = &v
		}
	}
	return p, p.Validate()
}

func (a *api) getWebhookFaults(c *gin.Context) {
	c.JSON(http.StatusOK, toWebhookFaultsJSON(a.cfg.Webhooks.Faults()))
}

func (a *api) setWebhookFaults(c *gin.Context) {
	patchSettings(a, c, decodeWebhookFaultsPatch, func(ctx context.Context, p domain.WebhookFaultsPatch) (any, error) {
		f, err := a.cfg.Webhooks.UpdateFaults(ctx, p)
		return toWebhookFaultsJSON(f), err
	})
}
