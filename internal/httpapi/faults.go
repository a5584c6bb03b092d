package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/faults"
)

type faultsJSON struct {
	CrashAt          []string `json:"crash_at"`
	DropResponseRate float64  `json:"drop_response_rate"`
}

func toFaultsJSON(s faults.State) faultsJSON {
	j := faultsJSON{CrashAt: []string{}, DropResponseRate: s.DropResponseRate}
	for _, p := range s.Armed {
		j.CrashAt = append(j.CrashAt, string(p))
	}
	return j
}

func decodeFaultSettings(o object) (faults.Settings, error) {
	var s faults.Settings
	if err := o.allow("crash_at", "drop_response_rate"); err != nil {
		return s, err
	}
	if _, sent := o["crash_at"]; sent {
		p, err := o.str("crash_at") // null disarms, like ""
		if err != nil {
			return s, err
		}
		pt := faults.Point(p)
		s.CrashAt = &pt
	}
	if r, ok, err := o.float("drop_response_rate"); err != nil {
		return s, err
	} else if ok {
		s.DropResponseRate = &r
	}
	return s, s.Validate()
}

func (a *api) getFaults(c *gin.Context) {
	c.JSON(http.StatusOK, toFaultsJSON(a.cfg.Faults.State()))
}

func (a *api) setFaults(c *gin.Context) {
	w, ok := a.beginAdminWrite(c)
	if !ok {
		return
	}
	s, err := decodeFaultSettings(w.body)
	if err != nil {
		writeError(c, err)
		return
	}
	a.runWrite(c, w, principal(c), respond(func(context.Context, string) (int, any, error) {
		st, err := a.cfg.Faults.Apply(s)
		return http.StatusOK, toFaultsJSON(st), err
	}))
}
