package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/view"
)

// Events reads the event log.
type Events interface {
	Get(ctx context.Context, id string) (domain.Event, error)
	List(ctx context.Context, f domain.EventFilter) ([]domain.Event, bool, error)
}

func (a *api) getEvent(c *gin.Context) {
	e, err := a.cfg.Events.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, view.FromEvent(e))
}

func (a *api) listEvents(c *gin.Context) {
	f := domain.EventFilter{
		Type:          domain.EventType(c.Query("type")),
		ObjectID:      c.Query("object_id"),
		StartingAfter: c.Query("starting_after"),
	}
	f.Limit = limitParam(c)
	evs, more, err := a.cfg.Events.List(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]view.Event, len(evs))
	for i, e := range evs {
		out[i] = view.FromEvent(e)
	}
	c.JSON(http.StatusOK, gin.H{"events": out, "has_more": more})
}
