//go:build tools

// Package tools pins the Temporal server and its SQL tool so that
// `go build` can make both from the module proxy. A dependency's `replace`
// directives are ignored unless it is the main module, so building through
// this small wrapper module works where `go install server@version` does not.
package tools

import (
	_ "go.temporal.io/server/cmd/server"
	_ "go.temporal.io/server/cmd/tools/sql"
)
