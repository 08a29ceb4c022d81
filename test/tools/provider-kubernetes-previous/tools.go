//go:build tools

// Package tools pins the provider-kubernetes release before the one the kit
// runs (test/tools/provider-kubernetes): the upgrade suite starts with it and
// upgrades to the kit's.
package tools

import (
	_ "github.com/crossplane-contrib/provider-kubernetes/cmd/provider"
)
