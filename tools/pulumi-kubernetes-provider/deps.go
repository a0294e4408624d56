//go:build tools

// Package deps keeps the provider's command and its generator's imports in this module's graph,
// so `go mod tidy` records every module they need in go.sum.
package deps

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	_ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)
