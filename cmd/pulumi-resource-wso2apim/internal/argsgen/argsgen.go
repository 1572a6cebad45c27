// Package argsgen writes the package's input types (platform/args_gen.go) from the Go API's
// platform.Args, so that the schema carries exactly the settings a stack's config does, with
// the Go doc comments as descriptions. `go generate ./...` in this module rewrites the file;
// a test fails when it is stale.
package argsgen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os/exec"
	"path"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/platform"
)

// field is one setting of a generated type.
type field struct {
	goName, name, goType, doc string
	// secret fields are Pulumi inputs the schema marks secret, outside the JSON that carries
	// the settings.
	secret bool
}

type structType struct {
	// source is the Go API's type, e.g. platform.APIMArgs.
	name, doc, source string
	fields            []field
}

type generator struct {
	types map[reflect.Type]*structType
	order []reflect.Type
	names map[string][]reflect.Type
	docs  *docs
}

// KubeconfigDoc describes the package's input that stands in for ClusterArgs.Provider.
const KubeconfigDoc = "The contents of a kubeconfig that reaches an existing cluster (cluster.mode existing), as a " +
	"secret input that may be another resource's output: the package's stand-in for the Go API's " +
	"cluster.Provider (a *kubernetes.Provider, which a schema cannot carry). The Platform makes its " +
	"Kubernetes provider from it. cluster.kubeconfig (a path or contents, known at preview) and " +
	"cluster.context still apply when this is unset."

// Generate returns the source of args_gen.go.
func Generate() ([]byte, error) {
	g := &generator{types: map[reflect.Type]*structType{}, names: map[string][]reflect.Type{}, docs: &docs{byPkg: map[string]map[string]typeDocs{}}}
	args := reflect.TypeOf(platform.Args{})
	g.walk(args)
	top, err := g.structOf(args)
	if err != nil {
		return nil, err
	}
	top.name = "PlatformArgs"
	top.source = "platform.Args, and the secrets and the kubeconfig as secret inputs,"
	top.doc = "PlatformArgs are the Platform's inputs: platform.Args of the Go API, one input per top-level " +
		"config key of a stack (Pulumi.yaml), the secrets as secret inputs, and kubeconfig."
	secrets := reflect.TypeOf(platform.Secrets{})
	keys := platform.SecretKeys()
	if secrets.NumField() != len(keys) {
		return nil, fmt.Errorf("platform.Secrets has %d fields and platform.SecretKeys %d keys: they must match in order", secrets.NumField(), len(keys))
	}
	for i, key := range keys {
		f := secrets.Field(i)
		doc, err := g.docs.field(secrets, f.Name)
		if err != nil {
			return nil, err
		}
		top.fields = append(top.fields, field{goName: exported(key), name: key, goType: "pulumi.StringInput", doc: doc, secret: true})
	}
	top.fields = append(top.fields, field{goName: "Kubeconfig", name: "kubeconfig", goType: "pulumi.StringInput", doc: KubeconfigDoc, secret: true})
	src, err := g.source(args)
	if err != nil {
		return nil, err
	}
	outs, err := g.outputs()
	if err != nil {
		return nil, err
	}
	return format.Source(append(src, outs...))
}

// Outputs name the Platform's outputs in the schema: the names the project's stacks export
// them under (stacks/program.go; a test holds the two together). Kubeconfig, AdminPassword and
// GeneratedSecrets are secrets.
var Outputs = []struct {
	Field, Name string
	Secret      bool
}{
	{"ClusterName", "clusterName", false},
	{"ClusterEndpoint", "clusterEndpoint", false},
	{"Kubeconfig", "kubeconfig", true},
	{"Namespace", "namespace", false},
	{"ControlPlaneService", "controlPlaneService", false},
	{"GatewayService", "gatewayService", false},
	{"MySQLService", "mysqlService", false},
	{"ManagementHost", "managementHost", false},
	{"GatewayHost", "gatewayHost", false},
	{"BackendURL", "backendURL", false},
	{"IngressAddress", "ingressAddress", false},
	{"PublisherURL", "publisherURL", false},
	{"DevportalURL", "devportalURL", false},
	{"HelloAPIURL", "helloAPIURL", false},
	{"DashboardsURL", "analyticsDashboardsURL", false},
	{"AdminUsername", "adminUsername", false},
	{"AdminPassword", "adminPassword", true},
	{"GeneratedSecrets", "generatedSecrets", true},
	{"KeystoresExpire", "keystoresExpire", false},
}

// outputs is the source of the Platform's output type: every output of platform.Platform
// (KubernetesProvider, a resource, is the one a schema cannot carry: a caller makes a provider
// from the kubeconfig output).
func (g *generator) outputs() ([]byte, error) {
	t := reflect.TypeOf(platform.Platform{})
	output := reflect.TypeOf((*pulumi.Output)(nil)).Elem()
	named := map[string]bool{}
	var b bytes.Buffer
	// The Go API's Platform is the registered component: embedded as the interface, so that
	// its state is shared, not copied, and reflection over this type stops at it.
	b.WriteString("\n// Platform carries platform.Platform's outputs in the schema.\ntype Platform struct {\n\tpulumi.ComponentResource\n")
	var describe []string
	for _, o := range Outputs {
		f, ok := t.FieldByName(o.Field)
		if !ok || !f.Type.Implements(output) {
			return nil, fmt.Errorf("platform.Platform has no output %s", o.Field)
		}
		named[o.Field] = true
		secret := ""
		if o.Secret {
			secret = ` provider:"secret"`
		}
		fmt.Fprintf(&b, "\t%s pulumi.%s `pulumi:%q%s`\n", o.Field, f.Type.Name(), o.Name, secret)
		doc, err := g.docs.field(t, o.Field)
		if err != nil {
			return nil, err
		}
		describe = append(describe, fmt.Sprintf("\tan.Describe(&p.%s, %q)\n", o.Field, doc))
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && f.Type.Implements(output) && !named[f.Name] {
			return nil, fmt.Errorf("platform.Platform's output %s has no name in the schema: add it to argsgen.Outputs", f.Name)
		}
	}
	b.WriteString("}\n\n// Annotate describes the Platform and its outputs in the schema.\nfunc (p *Platform) Annotate(an infer.Annotator) {\n")
	typeDoc, err := g.docs.typ(t)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "\tan.Describe(p, %q)\n", typeDoc)
	b.WriteString(strings.Join(describe, ""))
	b.WriteString("}\n\n// newPlatform is the outputs of a Platform the Go API made.\nfunc newPlatform(p *goapi.Platform) *Platform {\n\treturn &Platform{ComponentResource: p,\n")
	for _, o := range Outputs {
		fmt.Fprintf(&b, "\t\t%s: p.%s,\n", o.Field, o.Field)
	}
	b.WriteString("\t}\n}\n")
	return b.Bytes(), nil
}

// walk registers every struct type reachable through the settings (json names), so that names
// can be made unambiguous before any is used.
func (g *generator) walk(t reflect.Type) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || g.types[t] != nil {
		return
	}
	g.types[t] = &structType{}
	g.order = append(g.order, t)
	g.names[baseName(t)] = append(g.names[baseName(t)], t)
	for _, f := range settings(t) {
		g.walk(f.Type)
	}
}

// settings are the fields JSON decodes into: embedded structs' fields as the embedder's own,
// `json:"-"` and unexported fields left out.
func settings(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-":
		case f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct:
			out = append(out, settings(f.Type)...)
		case f.IsExported() && tag != "":
			out = append(out, f)
		}
	}
	return out
}

// typeName is a type's name in the schema: its Go name without "Args" (the SDKs add it to
// input types: GatewayArgs, not GatewayArgsArgs), its package's name for a type named Args, and
// prefixed with its package's name where two types would share a name.
func (g *generator) typeName(t reflect.Type) string {
	if t == reflect.TypeOf(platform.Args{}) {
		return "PlatformArgs"
	}
	n := baseName(t)
	if len(g.names[n]) > 1 {
		n = exported(path.Base(t.PkgPath())) + n
	}
	return n
}

func baseName(t reflect.Type) string {
	if n := strings.TrimSuffix(t.Name(), "Args"); n != "" {
		return n
	}
	return exported(path.Base(t.PkgPath()))
}

func (g *generator) structOf(t reflect.Type) (*structType, error) {
	st := g.types[t]
	st.name = g.typeName(t)
	doc, err := g.docs.typ(t)
	if err != nil {
		return nil, err
	}
	st.doc = doc
	st.source = path.Base(t.PkgPath()) + "." + t.Name()
	seen := map[string]bool{}
	for _, f := range settings(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if seen[name] {
			return nil, fmt.Errorf("%s: two settings named %q", t, name)
		}
		seen[name] = true
		goType, err := g.goType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		doc, err := g.docs.field(t, f.Name)
		if err != nil {
			return nil, err
		}
		st.fields = append(st.fields, field{goName: f.Name, name: name, goType: goType, doc: doc})
	}
	return st, nil
}

// goType is a setting's type in the generated code: structs by pointer (optional), named
// scalars as their kind, everything else as it is.
func (g *generator) goType(t reflect.Type) (string, error) {
	switch t.Kind() {
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct {
			return g.goType(t.Elem())
		}
		inner, err := g.goType(t.Elem())
		return "*" + inner, err
	case reflect.Struct:
		return "*" + g.typeName(t), nil
	case reflect.Slice:
		inner, err := g.goType(t.Elem())
		return "[]" + strings.TrimPrefix(inner, "*"), err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return "", fmt.Errorf("map keys must be strings, not %s", t.Key())
		}
		inner, err := g.goType(t.Elem())
		return "map[string]" + strings.TrimPrefix(inner, "*"), err
	case reflect.String, reflect.Bool, reflect.Int, reflect.Float64:
		return t.Kind().String(), nil
	}
	return "", fmt.Errorf("no schema type for %s", t)
}

func (g *generator) source(top reflect.Type) ([]byte, error) {
	var all []*structType
	for _, t := range g.order {
		if t == top {
			all = append(all, g.types[t])
			continue
		}
		st, err := g.structOf(t)
		if err != nil {
			return nil, err
		}
		all = append(all, st)
	}
	sort.SliceStable(all[1:], func(i, j int) bool { return all[1+i].name < all[1+j].name })

	var b bytes.Buffer
	b.WriteString("// Code generated by internal/argsgen from components/platform; DO NOT EDIT.\n\n")
	b.WriteString("package platform\n\nimport (\n\t\"github.com/pulumi/pulumi-go-provider/infer\"\n\t\"github.com/pulumi/pulumi/sdk/v3/go/pulumi\"\n\n\tgoapi \"github.com/wso2-k8s/apim-gke/components/platform\"\n)\n")
	for _, st := range all {
		fmt.Fprintf(&b, "\n// %s\ntype %s struct {\n", comment(st.name+" carries "+st.source+" in the schema."), st.name)
		for _, f := range st.fields {
			tag := fmt.Sprintf("`pulumi:%q json:%q`", f.name+",optional", f.name+",omitempty")
			if f.secret {
				tag = fmt.Sprintf("`pulumi:%q provider:\"secret\" json:\"-\"`", f.name+",optional")
			}
			fmt.Fprintf(&b, "\t%s %s %s\n", f.goName, f.goType, tag)
		}
		fmt.Fprintf(&b, "}\n\n// Annotate describes %s and its inputs in the schema.\nfunc (a *%s) Annotate(an infer.Annotator) {\n", st.name, st.name)
		fmt.Fprintf(&b, "\tan.Describe(a, %q)\n", st.doc)
		for _, f := range st.fields {
			if f.doc != "" {
				fmt.Fprintf(&b, "\tan.Describe(&a.%s, %q)\n", f.goName, f.doc)
			}
		}
		b.WriteString("}\n")
	}
	return b.Bytes(), nil
}

// comment wraps text as a // comment's continuation lines.
func comment(text string) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+len(w) > 95 {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n// ")
}

func exported(s string) string {
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// docs reads the doc comments of the Go API's types from their source.
type docs struct {
	byPkg map[string]map[string]typeDocs
}

type typeDocs struct {
	doc    string
	fields map[string]string
}

func (d *docs) load(pkg string) (map[string]typeDocs, error) {
	if m, ok := d.byPkg[pkg]; ok {
		return m, nil
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", pkg, err)
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, strings.TrimSpace(string(out)), nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	m := map[string]typeDocs{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					doc := ts.Doc
					if doc == nil {
						doc = gd.Doc
					}
					td := typeDocs{doc: clean(doc.Text()), fields: map[string]string{}}
					prev := ""
					for _, fl := range st.Fields.List {
						doc := clean(fl.Doc.Text())
						for _, n := range fl.Names {
							// "A and B (...)" documents B on the line before it.
							if doc == "" && strings.Contains(prev, n.Name) {
								doc = prev
							}
							td.fields[n.Name] = doc
						}
						prev = doc
					}
					m[ts.Name.Name] = td
				}
			}
		}
	}
	d.byPkg[pkg] = m
	return m, nil
}

func (d *docs) typ(t reflect.Type) (string, error) {
	m, err := d.load(t.PkgPath())
	if err != nil {
		return "", err
	}
	return m[t.Name()].doc, nil
}

// field is a field's doc, looked up in embedded structs too.
func (d *docs) field(t reflect.Type, name string) (string, error) {
	f, ok := t.FieldByName(name)
	if !ok {
		return "", fmt.Errorf("%s has no field %s", t, name)
	}
	owner := t
	for _, i := range f.Index[:len(f.Index)-1] {
		owner = owner.Field(i).Type
	}
	m, err := d.load(owner.PkgPath())
	if err != nil {
		return "", err
	}
	return m[owner.Name()].fields[name], nil
}

func clean(s string) string { return strings.Join(strings.Fields(s), " ") }
