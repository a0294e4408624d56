//go:build tools

// Package deps keeps sigs.k8s.io/gateway-api in this module's graph, so `go mod tidy` keeps it
// and go.sum pins it (its CRDs are what the counterparts tier installs).
package deps

import _ "sigs.k8s.io/gateway-api/apis/v1"
