package httpapi

import (
	"time"

	"github.com/gin-gonic/gin"
)

// RequestObserver is told of every request once it is answered: the route
// template ("/orders/:id", never the raw path, which would make one series
// per id; "" when no route matched), the method, the status and how long
// it took. main wires it to the metrics package.
type RequestObserver func(route, method string, status int, elapsed time.Duration)

// observeRequests reports each request to observe. It runs outside every
// middleware but the request id, so refusals by later middleware (rate
// limit, body limit, auth) and recovered panics count with their real
// status. A response dropped on purpose (a fault drill aborts the
// connection) is not counted: no status was sent.
func observeRequests(observe RequestObserver) gin.HandlerFunc {
	if observe == nil {
		return func(*gin.Context) {} // gin goes on to the next handler
	}
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		observe(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}
