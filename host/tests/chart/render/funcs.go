package main

// The template functions: the Sprig and Helm functions the chart uses, each with the
// signature and behaviour of the original (Sprig v3, Helm v3's engine). text/template's
// own functions (and, or, not, len, index, print, printf, eq, ne, lt, le, gt, ge, ...)
// come with the language. A function missing from this map is a parse error
// ("function "x" not defined"), so a chart cannot use one this renderer lacks.

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
)

// recursionMaxNums is Helm's limit on nested `include`s of one template.
const recursionMaxNums = 1000

func funcMap(t *template.Template) template.FuncMap {
	includedNames := map[string]int{}
	return template.FuncMap{
		// Helm
		"include": func(name string, data interface{}) (string, error) {
			if n, ok := includedNames[name]; ok {
				if n > recursionMaxNums {
					return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
				}
				includedNames[name]++
			} else {
				includedNames[name] = 1
			}
			var buf strings.Builder
			err := t.ExecuteTemplate(&buf, name, data)
			includedNames[name]--
			return buf.String(), err
		},
		"required": func(warn string, val interface{}) (interface{}, error) {
			if val == nil {
				return val, errors.New(warnWrap(warn))
			}
			if s, ok := val.(string); ok && s == "" {
				return val, errors.New(warnWrap(warn))
			}
			return val, nil
		},
		"fail": func(msg string) (string, error) {
			return "", errors.New(warnWrap(msg))
		},
		"toYaml": toYAML,

		// Sprig
		"default":    dfault,
		"empty":      empty,
		"quote":      quote,
		"squote":     squote,
		"toString":   strval,
		"indent":     indent,
		"nindent":    nindent,
		"trunc":      trunc,
		"trimSuffix": func(a, b string) string { return strings.TrimSuffix(b, a) },
		"trimPrefix": func(a, b string) string { return strings.TrimPrefix(b, a) },
		"replace":    func(o, n, s string) string { return strings.Replace(s, o, n, -1) },
		"lower":      strings.ToLower,
		"upper":      strings.ToUpper,
		"contains":   func(substr string, str string) bool { return strings.Contains(str, substr) },
		"regexMatch": func(regex string, s string) bool {
			match, _ := regexp.MatchString(regex, s)
			return match
		},
	}
}

// dfault is Sprig's `default`: the given value unless it is empty.
func dfault(d interface{}, given ...interface{}) interface{} {
	if empty(given) || empty(given[0]) {
		return d
	}
	return given[0]
}

// empty is Sprig's `empty`: nil, false, 0, "" and empty collections are empty; structs
// never are.
func empty(given interface{}) bool {
	g := reflect.ValueOf(given)
	if !g.IsValid() {
		return true
	}
	switch g.Kind() {
	default:
		return g.IsNil()
	case reflect.Array, reflect.Slice, reflect.Map, reflect.String:
		return g.Len() == 0
	case reflect.Bool:
		return !g.Bool()
	case reflect.Complex64, reflect.Complex128:
		return g.Complex() == 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return g.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return g.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return g.Float() == 0
	case reflect.Struct:
		return false
	}
}

// strval is Sprig's string conversion.
func strval(v interface{}) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprintf("%v", v)
	}
}

// quote is Sprig's `quote`: Go-quotes every non-nil argument, joined by spaces.
func quote(str ...interface{}) string {
	out := make([]string, 0, len(str))
	for _, s := range str {
		if s != nil {
			out = append(out, fmt.Sprintf("%q", strval(s)))
		}
	}
	return strings.Join(out, " ")
}

// squote is Sprig's `squote`.
func squote(str ...interface{}) string {
	out := make([]string, 0, len(str))
	for _, s := range str {
		if s != nil {
			out = append(out, fmt.Sprintf("'%v'", s))
		}
	}
	return strings.Join(out, " ")
}

func indent(spaces int, v string) string {
	pad := strings.Repeat(" ", spaces)
	return pad + strings.Replace(v, "\n", "\n"+pad, -1)
}

func nindent(spaces int, v string) string {
	return "\n" + indent(spaces, v)
}

// trunc is Sprig's `trunc`: the first c bytes, or the last -c when c is negative.
func trunc(c int, s string) string {
	if c < 0 && len(s)+c > 0 {
		return s[len(s)+c:]
	}
	if c >= 0 && len(s) > c {
		return s[:c]
	}
	return s
}
