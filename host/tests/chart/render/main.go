// Command chart-render renders a Helm chart's templates the way `helm template` does,
// with nothing but the Go standard library: Helm's template engine is Go's text/template
// plus Sprig and a few functions of its own, and this program provides the subset of
// those functions that the tinyhost chart uses (funcs.go), with Helm's semantics.
//
// Usage:
//
//	chart-render -chart DIR -input FILE [-notes]
//
// FILE (or "-" for standard input) is a JSON object:
//
//	{"chart": <Chart.yaml as JSON>, "values": <merged values>,
//	 "release": {"name": "...", "namespace": "...", "revision": 1, "isUpgrade": false}}
//
// Values arrive already merged (chart defaults with the overrides applied), as JSON; like
// Helm's, their numbers are float64. The output is what `helm template` prints: every
// rendered template that is not a partial (`_*`) nor NOTES.txt, as
// "---\n# Source: <chart>/templates/<file>\n<text>\n", in file-name order. With -notes
// it prints the rendered NOTES.txt instead. Errors are printed to standard error as Helm
// words them ("execution error at (<file>:<line>:<col>): <message>") with exit status 1.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

// Metadata is Helm's chart.Metadata: templates read it as .Chart with Go field names, so
// an unknown field is an error, as in Helm.
type Metadata struct {
	Name         string                   `json:"name,omitempty"`
	Home         string                   `json:"home,omitempty"`
	Sources      []string                 `json:"sources,omitempty"`
	Version      string                   `json:"version,omitempty"`
	Description  string                   `json:"description,omitempty"`
	Keywords     []string                 `json:"keywords,omitempty"`
	Maintainers  []Maintainer             `json:"maintainers,omitempty"`
	Icon         string                   `json:"icon,omitempty"`
	APIVersion   string                   `json:"apiVersion,omitempty"`
	Condition    string                   `json:"condition,omitempty"`
	Tags         string                   `json:"tags,omitempty"`
	AppVersion   string                   `json:"appVersion,omitempty"`
	Deprecated   bool                     `json:"deprecated,omitempty"`
	Annotations  map[string]string        `json:"annotations,omitempty"`
	KubeVersion  string                   `json:"kubeVersion,omitempty"`
	Dependencies []map[string]interface{} `json:"dependencies,omitempty"`
	Type         string                   `json:"type,omitempty"`
}

// Maintainer is Helm's chart.Maintainer.
type Maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

// KubeVersion is Helm's chartutil.KubeVersion (.Capabilities.KubeVersion).
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (kv *KubeVersion) String() string     { return kv.Version }
func (kv *KubeVersion) GitVersion() string { return kv.Version }

// VersionSet is Helm's chartutil.VersionSet (.Capabilities.APIVersions).
type VersionSet []string

// Has says whether an API version ("apps/v1") or resource ("apps/v1/Deployment") is known.
func (v VersionSet) Has(apiVersion string) bool {
	for _, known := range v {
		if known == apiVersion {
			return true
		}
	}
	return false
}

// Capabilities is the part of Helm's chartutil.Capabilities this renderer provides; any
// other field is an error at render time.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
}

// defaultCapabilities stands for the cluster `helm template` assumes without one.
var defaultCapabilities = Capabilities{
	KubeVersion: KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"},
	APIVersions: VersionSet{
		"v1", "apps/v1", "batch/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
		"coordination.k8s.io/v1", "networking.k8s.io/v1", "apiextensions.k8s.io/v1",
		"autoscaling/v2", "events.k8s.io/v1",
	},
}

type release struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Revision  int    `json:"revision"`
	IsUpgrade bool   `json:"isUpgrade"`
}

type input struct {
	Chart   Metadata               `json:"chart"`
	Values  map[string]interface{} `json:"values"`
	Release release                `json:"release"`
}

// Delimiters Helm wraps the messages of `required` and `fail` in, to find them again in
// text/template's error chain.
const (
	warnStart = "HELM_ERR_START"
	warnEnd   = "HELM_ERR_END"
)

var warnRegex = regexp.MustCompile(warnStart + `(.*)` + warnEnd)

func warnWrap(message string) string { return warnStart + message + warnEnd }

func main() {
	chartDir := flag.String("chart", "", "the chart folder (holding Chart.yaml and templates/)")
	inputPath := flag.String("input", "-", "the JSON input (chart, values, release); - for standard input")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	flag.Parse()
	if *chartDir == "" {
		fmt.Fprintln(os.Stderr, "Error: -chart is required")
		os.Exit(2)
	}
	out, err := run(*chartDir, *inputPath, *notes)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(out)
}

func run(chartDir, inputPath string, notes bool) (string, error) {
	var raw []byte
	var err error
	if inputPath == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(inputPath)
	}
	if err != nil {
		return "", fmt.Errorf("reading the input: %w", err)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return "", fmt.Errorf("the input is not valid JSON: %w", err)
	}
	if in.Chart.Name == "" {
		return "", errors.New("the input's chart has no name")
	}
	if in.Values == nil {
		in.Values = map[string]interface{}{}
	}
	files, err := loadTemplates(chartDir, in.Chart.Name)
	if err != nil {
		return "", err
	}
	top := map[string]interface{}{
		"Chart":        &in.Chart,
		"Capabilities": &defaultCapabilities,
		"Release": map[string]interface{}{
			"Name":      in.Release.Name,
			"Namespace": in.Release.Namespace,
			"IsUpgrade": in.Release.IsUpgrade,
			"IsInstall": !in.Release.IsUpgrade,
			"Revision":  in.Release.Revision,
			"Service":   "Helm",
		},
		"Values": in.Values,
	}
	rendered, err := render(files, top, path.Join(in.Chart.Name, "templates"))
	if err != nil {
		return "", err
	}
	notesName := path.Join(in.Chart.Name, "templates", "NOTES.txt")
	if notes {
		return rendered[notesName], nil
	}
	names := make([]string, 0, len(rendered))
	for name := range rendered {
		if name != notesName {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		text := rendered[name]
		if strings.TrimSpace(text) == "" {
			continue // Helm drops empty manifests
		}
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", name, text)
	}
	return b.String(), nil
}

// loadTemplates reads every file under templates/, named as Helm names them:
// "<chart>/templates/<relative path>".
func loadTemplates(chartDir, chartName string) (map[string]string, error) {
	root := filepath.Join(chartDir, "templates")
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[path.Join(chartName, "templates", filepath.ToSlash(rel))] = string(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the templates: %w", err)
	}
	return files, nil
}

// render parses every file into one template set (so `define`s are shared) and executes
// every file that is not a partial, as Helm's engine does.
func render(files map[string]string, top map[string]interface{}, basePath string) (rendered map[string]string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rendering template failed: %v", r)
		}
	}()
	t := template.New("gotpl")
	t.Option("missingkey=zero")
	t.Funcs(funcMap(t))
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sortTemplates(names)
	for _, name := range names {
		if _, err := t.New(name).Parse(files[name]); err != nil {
			return nil, cleanupParseError(name, err)
		}
	}
	rendered = map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": name, "BasePath": basePath}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, top); err != nil {
			return nil, cleanupExecError(name, err)
		}
		rendered[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return rendered, nil
}

// sortTemplates orders names as Helm parses them: deeper paths first, then by name,
// descending.
func sortTemplates(names []string) {
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		ca, cb := strings.Count(a, "/"), strings.Count(b, "/")
		if ca == cb {
			return a > b
		}
		return ca > cb
	})
}

func cleanupParseError(name string, err error) error {
	tokens := strings.Split(err.Error(), ": ")
	if len(tokens) == 1 {
		return fmt.Errorf("parse error in (%s): %s", name, err)
	}
	return fmt.Errorf("parse error at (%s): %s", tokens[1], tokens[len(tokens)-1])
}

func cleanupExecError(name string, err error) error {
	var execErr template.ExecError
	if !errors.As(err, &execErr) {
		return err
	}
	tokens := strings.SplitN(err.Error(), ": ", 3)
	if len(tokens) != 3 {
		return fmt.Errorf("execution error in (%s): %s", name, err)
	}
	if parts := warnRegex.FindStringSubmatch(tokens[2]); len(parts) >= 2 {
		return fmt.Errorf("execution error at (%s): %s", tokens[1], parts[1])
	}
	return err
}
