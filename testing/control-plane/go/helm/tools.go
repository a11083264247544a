//go:build tools

// Package tools pins helm's command, which the chart tests build and run.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
