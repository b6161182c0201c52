//go:build tools

// Package tools pins the Temporal Web UI server (its Go server with the UI's assets embedded) so that
// `go build` can make it from the module proxy. Its own module, not the server's: the UI and the server pin
// different go.temporal.io/api versions, and one module would force both onto the newer.
package tools

import _ "github.com/temporalio/ui-server/v2/cmd/server"
