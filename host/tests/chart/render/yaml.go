package main

// toYaml, as Helm's: the value is converted to JSON first (so structs use their JSON
// names and numbers print as JSON prints them), then written as block YAML with sorted
// keys and sequences under a key not indented, and the final newline trimmed. One
// difference from Helm's YAML library, which quotes a string only when it must: every
// string scalar here is written double-quoted (JSON escapes are valid YAML escapes), so
// the text differs but the parsed value is the same.

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

func toYAML(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return "" // Helm's toYaml swallows the error the same way
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic interface{}
	if err := dec.Decode(&generic); err != nil {
		return ""
	}
	return strings.Join(yamlLines(generic), "\n")
}

// yamlLines writes a node as lines indented from column 0.
func yamlLines(v interface{}) []string {
	switch v := v.(type) {
	case map[string]interface{}:
		if len(v) == 0 {
			return []string{"{}"}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var lines []string
		for _, k := range keys {
			key := yamlKey(k) + ":"
			child := yamlLines(v[k])
			switch c := v[k].(type) {
			case map[string]interface{}:
				if len(c) > 0 {
					lines = append(lines, key)
					lines = append(lines, prefixed("  ", child)...)
					continue
				}
			case []interface{}:
				if len(c) > 0 {
					lines = append(lines, key)
					lines = append(lines, child...)
					continue
				}
			}
			lines = append(lines, key+" "+child[0])
		}
		return lines
	case []interface{}:
		if len(v) == 0 {
			return []string{"[]"}
		}
		var lines []string
		for _, item := range v {
			child := yamlLines(item)
			lines = append(lines, "- "+child[0])
			lines = append(lines, prefixed("  ", child[1:])...)
		}
		return lines
	default:
		return []string{yamlScalar(v)}
	}
}

func prefixed(pad string, lines []string) []string {
	out := make([]string, len(lines))
	for i, line := range lines {
		out[i] = pad + line
	}
	return out
}

func yamlScalar(v interface{}) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		if v {
			return "true"
		}
		return "false"
	case json.Number:
		return v.String()
	case string:
		return jsonQuote(v)
	default:
		return jsonQuote(strval(v))
	}
}

// plainKey is a key that reads back as the same string in YAML 1.1 and 1.2 unquoted.
var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// yamlKeywords would read back as booleans or null in YAML 1.1 if unquoted.
var yamlKeywords = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true,
}

func yamlKey(k string) string {
	if plainKey.MatchString(k) && !yamlKeywords[strings.ToLower(k)] {
		return k
	}
	return jsonQuote(k)
}

func jsonQuote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return `""`
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
