//go:build tools

// Package tools pins provider-kubernetes, which the end-to-end suite runs out
// of cluster.
package tools

import (
	_ "github.com/crossplane-contrib/provider-kubernetes/cmd/provider"
)
