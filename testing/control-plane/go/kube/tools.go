//go:build tools

// Package tools pins the Kubernetes commands the tests build: kube-apiserver (the real API
// server the operator is tested against) and kubectl (what a person would use on it).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
