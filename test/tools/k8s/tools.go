//go:build tools

// Package tools pins the Kubernetes control plane that the end-to-end suite
// runs: kube-apiserver, kube-controller-manager and kubectl from
// k8s.io/kubernetes, and etcd (cmd/etcd).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
