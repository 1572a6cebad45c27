package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// decodeProblem is one setting that could not be decoded.
type decodeProblem struct {
	// path of the setting, e.g. "nodePool.maxNodes"; it keeps its zero value.
	path    string
	message string
	// unknown marks a misspelt setting: nothing was left undecoded by it.
	unknown bool
}

// decodeStrict decodes one config key's JSON object into the struct into points at, and
// reports every problem with its full path: a misspelt setting (which plain decoding would
// silently ignore), a value of the wrong type, in every field at once rather than the first.
func decodeStrict(path string, raw []byte, into any) []decodeProblem {
	return decodeValue(path, raw, reflect.ValueOf(into).Elem())
}

func problem(path, format string, args ...any) []decodeProblem {
	return []decodeProblem{{path: path, message: path + ": " + fmt.Sprintf(format, args...)}}
}

func decodeValue(path string, raw []byte, v reflect.Value) []decodeProblem {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	switch {
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeValue(path, raw, v.Elem())
	case v.Kind() == reflect.Struct:
		return decodeStruct(path, raw, v)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return problem(path, "got %s, want a list", describe(raw))
		}
		v.Set(reflect.MakeSlice(v.Type(), len(items), len(items)))
		var problems []decodeProblem
		for i, item := range items {
			problems = append(problems, decodeValue(fmt.Sprintf("%s[%d]", path, i), item, v.Index(i))...)
		}
		return problems
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		// encoding/json may have half-filled it (a pointer allocated, say): leave it unset.
		v.Set(reflect.Zero(v.Type()))
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return problem(path, "got %s, want %s", article(typeErr.Value), kindOf(v.Type()))
		}
		return problem(path, "%v", err)
	}
	return nil
}

func decodeStruct(path string, raw []byte, v reflect.Value) []decodeProblem {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return problem(path, "got %s, want an object of settings", describe(raw))
	}
	known := fieldsOf(v)
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	var problems []decodeProblem
	for _, name := range names {
		f, ok := known[name]
		if !ok {
			problems = append(problems, decodeProblem{path: path + "." + name, unknown: true,
				message: fmt.Sprintf("%s: unknown setting %q; see Pulumi.yaml or docs/configuration.md for the valid keys", path, name)})
			continue
		}
		problems = append(problems, decodeValue(path+"."+name, fields[name], f)...)
	}
	return problems
}

// fieldsOf maps the JSON names of a struct's settings to its fields, taking embedded structs'
// settings as its own (as encoding/json does) and skipping `json:"-"`.
func fieldsOf(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			for name, inner := range fieldsOf(v.Field(i)) {
				out[name] = inner
			}
			continue
		}
		if !f.IsExported() || tag == "" {
			continue
		}
		out[tag] = v.Field(i)
	}
	return out
}

// article puts "a" or "an" before a JSON type name from encoding/json ("array", "number").
func article(typ string) string {
	if strings.IndexByte("aeiou", typ[0]) >= 0 {
		return "an " + typ
	}
	return "a " + typ
}

func describe(raw []byte) string {
	switch s := strings.TrimSpace(string(raw)); {
	case strings.HasPrefix(s, "\""):
		return "a string"
	case strings.HasPrefix(s, "["):
		return "a list"
	case strings.HasPrefix(s, "{"):
		return "an object"
	case s == "true" || s == "false":
		return "a bool"
	default:
		return "a number"
	}
}

func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map:
		return "a map of strings"
	default:
		return "an object"
	}
}
