// Package api holds the service's OpenAPI document, embedded so that the
// server can serve it and the tests can enforce it from the same bytes.
package api

import _ "embed"

// Spec is api/openapi.yaml, the OpenAPI 3.0.3 contract of the HTTP API.
//
//go:embed openapi.yaml
var Spec []byte
