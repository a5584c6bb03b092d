package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/provider"
)

type behaviorJSON struct {
	FailureRate       float64 `json:"failureRate"`
	MinDelayMs        int     `json:"minDelayMs"`
	MaxDelayMs        int     `json:"maxDelayMs"`
	AsyncDelayMs      int     `json:"asyncDelayMs"`
	AsyncJitterMs     int     `json:"asyncJitterMs"`
	IntentFailureRate float64 `json:"intentFailureRate"`
	TimeoutRate       float64 `json:"timeoutRate"`
	TimeoutMs         int     `json:"timeoutMs"`
	TimeoutOutcome    string  `json:"timeoutOutcome"`
	ErrorCode         string  `json:"errorCode"`
}

func toBehaviorJSON(b provider.Behavior) behaviorJSON {
	return behaviorJSON{FailureRate: b.FailureRate, MinDelayMs: b.MinDelayMs, MaxDelayMs: b.MaxDelayMs,
		AsyncDelayMs: b.AsyncDelayMs, AsyncJitterMs: b.AsyncJitterMs, IntentFailureRate: b.IntentFailureRate,
		TimeoutRate: b.TimeoutRate, TimeoutMs: b.TimeoutMs, TimeoutOutcome: b.TimeoutOutcome, ErrorCode: b.ErrorCode}
}

// decodeBehaviorPatch reads a partial update; absent fields stay as they are.
func decodeBehaviorPatch(o object) (provider.BehaviorPatch, error) {
	var p provider.BehaviorPatch
	if err := o.allow("failureRate", "minDelayMs", "maxDelayMs", "asyncDelayMs", "asyncJitterMs", "intentFailureRate",
		"timeoutRate", "timeoutMs", "timeoutOutcome", "errorCode"); err != nil {
		return p, err
	}
	for name, dst := range map[string]**string{"timeoutOutcome": &p.TimeoutOutcome, "errorCode": &p.ErrorCode} {
		if o.present(name) {
			v, err := o.str(name)
			if err != nil {
				return p, err
			}
			*dst = &v
		}
	}
	for name, dst := range map[string]**float64{"failureRate": &p.FailureRate, "intentFailureRate": &p.IntentFailureRate, "timeoutRate": &p.TimeoutRate} {
		f, ok, err := o.float(name)
		if err != nil {
			return p, err
		}
		if ok {
			*dst = &f
		}
	}
	for name, dst := range map[string]**int{"minDelayMs": &p.MinDelayMs, "maxDelayMs": &p.MaxDelayMs,
		"asyncDelayMs": &p.AsyncDelayMs, "asyncJitterMs": &p.AsyncJitterMs, "timeoutMs": &p.TimeoutMs} {
		n, ok, err := o.int(name)
		if err != nil {
			return p, err
		}
		if ok {
			v := clampInt(n)
			*dst = &v
		}
	}
	// Fields are checked one by one here, before the idempotency record is
	// claimed; how they combine with the stored behavior (min <= max) is
	// checked by the conditional update itself.
	return p, p.Validate()
}

// clampInt narrows an int64 to int without wrapping around.
func clampInt(n int64) int {
	const maxInt, minInt = int64(^uint(0) >> 1), -int64(^uint(0)>>1) - 1
	switch {
	case n > maxInt:
		return int(maxInt)
	case n < minInt:
		return int(minInt)
	}
	return int(n)
}

func (a *api) getBehavior(c *gin.Context) {
	c.JSON(http.StatusOK, toBehaviorJSON(a.cfg.Behavior.Behavior()))
}

func (a *api) setBehavior(c *gin.Context) {
	patchSettings(a, c, decodeBehaviorPatch, func(ctx context.Context, p provider.BehaviorPatch) (any, error) {
		b, err := a.cfg.Behavior.UpdateBehavior(ctx, p)
		return toBehaviorJSON(b), err
	})
}

// patchSettings answers an admin POST that partly updates settings shared
// by every instance: decode the patch from the body, apply it (once per
// Idempotency-Key, when one is sent), and answer 200 with the settings as
// they now are.
func patchSettings[P any](a *api, c *gin.Context, decode func(object) (P, error), update func(context.Context, P) (any, error)) {
	w, ok := a.beginAdminWrite(c)
	if !ok {
		return
	}
	patch, err := decode(w.body)
	if err != nil {
		writeError(c, err)
		return
	}
	a.runWrite(c, w, principal(c), respond(func(ctx context.Context, _ string) (int, any, error) {
		v, err := update(ctx, patch)
		return http.StatusOK, v, err
	}))
}
