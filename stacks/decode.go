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

// decodeStrict decodes one config key's JSON object into the struct into points at, and
// reports every problem with its full path: a misspelt setting (which plain decoding would
// silently ignore), a value of the wrong type, in every field at once rather than the first.
func decodeStrict(path string, raw []byte, into any) []string {
	return decodeValue(path, raw, reflect.ValueOf(into).Elem())
}

func decodeValue(path string, raw []byte, v reflect.Value) []string {
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
			return []string{fmt.Sprintf("%s: got %s, want a list", path, describe(raw))}
		}
		v.Set(reflect.MakeSlice(v.Type(), len(items), len(items)))
		var problems []string
		for i, item := range items {
			problems = append(problems, decodeValue(fmt.Sprintf("%s[%d]", path, i), item, v.Index(i))...)
		}
		return problems
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return []string{fmt.Sprintf("%s: got a %s, want %s", path, typeErr.Value, kindOf(v.Type()))}
		}
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	return nil
}

func decodeStruct(path string, raw []byte, v reflect.Value) []string {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return []string{fmt.Sprintf("%s: got %s, want an object of settings", path, describe(raw))}
	}
	known := fieldsOf(v)
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	var problems []string
	for _, name := range names {
		f, ok := known[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: unknown setting %q; see Pulumi.yaml or the README for the valid keys", path, name))
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
