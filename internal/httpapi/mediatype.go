package httpapi

import (
	"mime"
	"net/http"
	"strings"

	"github.com/reliabledemo/payments/internal/domain"
)

// bodyType is what a request's Content-Type declares its body to be.
type bodyType int

const (
	bodyJSON       bodyType = iota // application/json or application/*+json, in UTF-8
	bodyUndeclared                 // no Content-Type at all
	bodyForm                       // application/x-www-form-urlencoded, what curl -d sends
	bodyOther                      // anything else, several Content-Types, or an unparsable one
)

// declaredBodyType classifies the request's Content-Type. A charset other
// than UTF-8 is not JSON here: RFC 8259 requires UTF-8 and the body is
// checked as such.
func declaredBodyType(h http.Header) bodyType {
	vals := h.Values("Content-Type")
	switch {
	case len(vals) == 0 || len(vals) == 1 && strings.TrimSpace(vals[0]) == "":
		return bodyUndeclared
	case len(vals) > 1:
		return bodyOther
	}
	mt, params, err := mime.ParseMediaType(vals[0])
	if err != nil {
		return bodyOther
	}
	switch {
	case mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return bodyOther
		}
		return bodyJSON
	case mt == "application/x-www-form-urlencoded":
		return bodyForm
	}
	return bodyOther
}

func errMediaType() error {
	return &domain.Error{Kind: domain.KindUnsupportedMediaType, Code: "unsupported_media_type", Param: "Content-Type",
		Message: "The request body must be a JSON object sent with 'Content-Type: application/json'."}
}
