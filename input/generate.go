//go:build generate

// Run `go generate` (or `make generate`) to regenerate the Input's deepcopy
// methods and its CRD in package/input. controller-gen is pinned in the tools
// module hack/tools, so the function's own go.mod stays small.

//go:generate rm -rf ../package/input/
//go:generate go run -C ../hack/tools sigs.k8s.io/controller-tools/cmd/controller-gen paths=../../input/v1beta1 object crd:crdVersions=v1 output:artifacts:config=../../package/input

package input
