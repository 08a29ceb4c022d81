//go:build tools

// Package tools pins the code generators the function's `go generate` runs,
// in a module of their own so that the function's go.mod stays small.
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
