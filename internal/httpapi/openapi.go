package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	apispec "github.com/reliabledemo/payments/api"
)

// serveSpec answers with the OpenAPI document, without auth: clients and
// generators need the contract before they have a key.
func serveSpec(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", apispec.Spec)
}

// Route is one method and path the handler serves, in Gin's syntax
// (`/orders/:id`).
type Route struct {
	Method, Path string
}

// Routes lists the routes of a handler built by New, so a test can hold them
// against the OpenAPI document. It returns nil for any other handler.
func Routes(h http.Handler) []Route {
	e, ok := h.(*gin.Engine)
	if !ok {
		return nil
	}
	var rs []Route
	for _, r := range e.Routes() {
		rs = append(rs, Route{Method: r.Method, Path: r.Path})
	}
	return rs
}
