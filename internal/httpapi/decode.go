package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/reliabledemo/payments/internal/domain"
)

// object is a decoded JSON request body: fields stay raw until a handler
// asks for them with the type it expects, so a wrong type is reported
// against the field by name rather than as a generic decoding failure.
type object map[string]json.RawMessage

func badRequest(code, param, msg string) error {
	return &domain.Error{Kind: domain.KindInvalidRequest, Code: code, Param: param, Message: msg}
}

// parseObject decodes a request body that must be a JSON object. An empty
// body is an empty object. The body has already passed RFC 8785
// canonicalization, which rejects duplicate keys and invalid UTF-8.
func parseObject(body []byte) (object, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return object{}, nil
	}
	var o object
	if err := json.Unmarshal(body, &o); err != nil || o == nil {
		return nil, badRequest("invalid_json", "", "The request body must be a JSON object.")
	}
	return o, nil
}

// isJSONObject reports whether body, known to be valid JSON, is an object.
func isJSONObject(body []byte) bool {
	t := bytes.TrimSpace(body)
	return len(t) > 0 && t[0] == '{'
}

// allow refuses fields the route does not know, naming the first (sorted,
// so the answer is stable), as Stripe does with parameter_unknown.
func (o object) allow(names ...string) error {
	var unknown []string
	for k := range o {
		known := false
		for _, n := range names {
			known = known || k == n
		}
		if !known {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return badRequest("parameter_unknown", unknown[0], "Received unknown parameter: "+strconv.Quote(unknown[0])+".")
}

// present reports whether name was sent with a non-null value.
func (o object) present(name string) bool {
	raw, ok := o[name]
	return ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func typeError(name, want string) error {
	return domain.Invalid(name, "invalid_type", "%s must be %s.", name, want)
}

// str returns a string field; absent or null gives "".
func (o object) str(name string) (string, error) {
	if !o.present(name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(o[name], &s); err != nil {
		return "", typeError(name, "a string")
	}
	return s, nil
}

var integerLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// int returns an integer field. Floats (even 10.0) and exponents are refused:
// money is counted in whole minor units. Integers too large for int64 come
// back as math.MaxInt64 so that range checks reject them by name.
func (o object) int(name string) (int64, bool, error) {
	if !o.present(name) {
		return 0, false, nil
	}
	raw := bytes.TrimSpace(o[name])
	if !integerLiteral.Match(raw) {
		return 0, true, typeError(name, "an integer")
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		if raw[0] == '-' {
			return math.MinInt64, true, nil
		}
		return math.MaxInt64, true, nil
	}
	return n, true, nil
}

// float returns a number field.
func (o object) float(name string) (float64, bool, error) {
	if !o.present(name) {
		return 0, false, nil
	}
	var f float64
	if err := json.Unmarshal(o[name], &f); err != nil {
		return 0, true, typeError(name, "a number")
	}
	return f, true, nil
}

// limitParam reads a listing's limit query parameter: 0 when absent (the
// service's default), -1 when it is not a positive integer, which the
// service refuses with its usual message.
func limitParam(c *gin.Context) int {
	v, ok := c.GetQuery("limit")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return -1
	}
	return n
}
