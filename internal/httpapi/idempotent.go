package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
	"github.com/reliabledemo/payments/internal/idempotency"
)

// write is a POST or PATCH on its way through the idempotency layer.
type write struct {
	key         string
	fingerprint string
	raw         []byte // the body as sent, stored for the completer
	body        object
}

// beginWrite checks the Idempotency-Key, reads the body (within the size
// limit), checks that it is declared as JSON and fingerprints it. On failure
// it has answered and returns false. Nothing is stored for a request
// refused here.
func (a *api) beginWrite(c *gin.Context) (write, bool) {
	return a.readWrite(c, false)
}

// beginAdminWrite is beginWrite for the admin routes, which the seed's
// drills call as `curl -X POST … -d '{"failureRate":0.5}'`: no
// Idempotency-Key, and curl's default Content-Type,
// application/x-www-form-urlencoded. Setting a behaviour is idempotent by
// nature, so the key is optional (with one, retries replay as elsewhere),
// and an undeclared or form type is accepted when the body is a JSON object.
func (a *api) beginAdminWrite(c *gin.Context) (write, bool) {
	return a.readWrite(c, true)
}

func (a *api) readWrite(c *gin.Context, admin bool) (write, bool) {
	keys := c.Request.Header.Values("Idempotency-Key")
	if len(keys) > 1 {
		// Proxies and frameworks disagree on which of two headers wins;
		// guessing could run one request under two different keys.
		writeError(c, &domain.Error{Kind: domain.KindInvalidRequest, Code: idempotency.CodeKeyInvalid, Param: "Idempotency-Key",
			Message: "Send exactly one Idempotency-Key header."})
		return write{}, false
	}
	var key string
	if len(keys) == 1 || !admin {
		key = c.Request.Header.Get("Idempotency-Key")
		if err := idempotency.ValidateKey(key, len(keys) == 1); err != nil {
			writeError(c, err)
			return write{}, false
		}
		c.Set(ctxIdempotencyKey, key)
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(c, errTooLarge(tooLarge.Limit))
		} else {
			writeError(c, badRequest("body_unreadable", "", "The request body could not be read."))
		}
		return write{}, false
	}
	// A body must be declared as JSON; a bodiless write needs no type.
	lenient := false
	if len(raw) > 0 {
		switch declaredBodyType(c.Request.Header) {
		case bodyJSON:
		case bodyUndeclared, bodyForm:
			if !admin {
				writeError(c, errMediaType())
				return write{}, false
			}
			lenient = true
		default:
			writeError(c, errMediaType())
			return write{}, false
		}
	}
	fp, err := idempotency.Fingerprint(c.Request.Method, c.Request.URL.RequestURI(), raw)
	if lenient && (err != nil || !isJSONObject(raw)) {
		// Form fields, say: the body is what its type declared, not JSON.
		writeError(c, errMediaType())
		return write{}, false
	}
	if err != nil {
		writeError(c, badRequest("invalid_json", "", "The request body is not valid JSON: it must be one UTF-8 JSON object without duplicate keys."))
		return write{}, false
	}
	body, err := parseObject(raw)
	if err != nil {
		writeError(c, err)
		return write{}, false
	}
	return write{key: key, fingerprint: fp, raw: raw, body: body}, true
}

// runWrite runs op once for the key within userID's scope and answers with
// its response, or with the stored response of an earlier attempt. Without
// a key (admin routes only) op simply runs.
func (a *api) runWrite(c *gin.Context, w write, userID string, op idempotency.Operation) {
	if w.key == "" {
		resp, err := op(c.Request.Context(), "")
		if err != nil {
			writeError(c, err)
			return
		}
		send(c, resp)
		return
	}
	req := idempotency.Request{
		Scope:       idempotency.Scope{Key: w.key, Method: c.Request.Method, Path: c.Request.URL.Path, UserID: userID},
		Fingerprint: w.fingerprint,
		Stored:      idempotency.StoredRequest{URI: c.Request.URL.RequestURI(), Body: w.raw, Principal: principal(c)},
	}
	// The events this request causes name it.
	ctx := domain.WithRequest(c.Request.Context(), domain.RequestRef{ID: c.GetString(ctxRequestID), IdempotencyKey: w.key})
	res, err := a.cfg.Idempotency.Do(ctx, req, op)
	if err != nil {
		writeError(c, err)
		return
	}
	if a.cfg.Faults != nil && !strings.HasPrefix(c.FullPath(), "/admin") && !isRecovery(c) && a.cfg.Faults.DropResponse() {
		// The outcome is committed; the client never hears of it and must
		// retry. ErrAbortHandler closes the connection without a response.
		a.log.Warn("fault injection: dropping the response", "request_id", c.GetString(ctxRequestID))
		panic(http.ErrAbortHandler)
	}
	c.Set(ctxReplayed, res.Replayed)
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	send(c, res.Response)
}

func send(c *gin.Context, r idempotency.Response) {
	for k, v := range r.Header {
		c.Header(k, v)
	}
	c.Data(r.Status, r.Header["Content-Type"], r.Body)
}

// principal is the authenticated caller, used as the scope's user where a
// route's body names none.
func principal(c *gin.Context) string { return c.GetString(ctxPrincipal) }

const jsonContentType = "application/json; charset=utf-8"

// jsonResponse encodes a response to store and send. encoding/json output is
// deterministic, and the stored bytes are what every replay sends.
func jsonResponse(status int, v any) (idempotency.Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return idempotency.Response{}, err
	}
	return idempotency.Response{Status: status, Header: map[string]string{"Content-Type": jsonContentType}, Body: b}, nil
}

// respond wraps an operation returning a status and a value to encode.
func respond(op func(ctx context.Context, resourceID string) (int, any, error)) idempotency.Operation {
	return func(ctx context.Context, resourceID string) (idempotency.Response, error) {
		status, v, err := op(ctx, resourceID)
		if err != nil {
			return idempotency.Response{}, err
		}
		return jsonResponse(status, v)
	}
}

// failed builds the error format for a business failure stored as an
// outcome (not an error): the body is the error plus extra fields.
func failed(kind domain.Kind, code, message string) errorJSON {
	_, body, _ := toErrorJSON(&domain.Error{Kind: kind, Code: code, Message: message})
	return body
}
