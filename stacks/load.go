package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/wso2-k8s/apim-gke/components/platform"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// ConfigError lists every problem found in a stack's config, each naming the key path, the
// bad value and what would be valid.
type ConfigError struct {
	Stack    string
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid config for stack %q (%d problem(s)); nothing was deployed:\n  - %s",
		e.Stack, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// configKey is one top-level key and the field of platform.Args it decodes into.
type configKey struct {
	name string
	into any
}

// keys lists the top-level config keys. Pulumi.yaml must declare exactly these and the secret
// keys (a test holds them together).
func keys(a *platform.Args) []configKey {
	return []configKey{
		{"cluster", &a.Cluster},
		{"nodePool", &a.NodePool},
		{"apim", &a.APIM},
		{"gateway", &a.Gateway},
		{"mysql", &a.MySQL},
		{"backend", &a.Backend},
		{"nfs", &a.NFS},
		{"ingress", &a.Ingress},
		{"publisher", &a.Publisher},
		{"analytics", &a.Analytics},
		{"monitoring", &a.Monitoring},
	}
}

// Keys returns the names of the top-level config keys the program reads, secrets included.
func Keys() []string {
	names := platform.SecretKeys()
	for _, k := range keys(&platform.Args{}) {
		names = append(names, k.name)
	}
	return names
}

// LoadConfig decodes every key straight into the Platform's args and resolves them with the
// Platform's own defaults and rules, so that the problems of every key (decoding, validation,
// secrets) are reported together, before anything is registered; the args it returns are
// resolved (platform.Resolve).
func LoadConfig(ctx *pulumi.Context, name string) (*platform.Args, error) {
	a := &platform.Args{}
	var problems validate.Problems
	// Settings that did not decode keep their zero value; what validation then says of them
	// is noise next to the decoding problem, so it is left out. Everything else is checked.
	var undecoded []string
	for _, k := range keys(a) {
		raw := strings.TrimSpace(config.Get(ctx, k.name))
		if raw == "" {
			continue
		}
		if !json.Valid([]byte(raw)) {
			problems.Addf(k.name, "%q is not a YAML object of settings", raw)
			undecoded = append(undecoded, k.name)
			continue
		}
		for _, p := range decodeStrict(k.name, []byte(raw), k.into) {
			problems.Add(p.message)
			if !p.unknown {
				undecoded = append(undecoded, p.path)
			}
		}
	}
	values, secretProblems := readSecrets(ctx, a)
	problems.Add(secretProblems...)
	problems.Add(platform.ValidateSecretValues(values)...)
	// Resolved once, here: NewPlatform trusts what this returns (platform.Resolve).
	resolved, invalid := platform.Resolve(platform.ContextOf(ctx, name), *a)
	for _, p := range invalid {
		if !fromAny(p, undecoded) {
			problems.Add(p)
		}
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Stack: ctx.Stack(), Problems: problems}
	}
	return &resolved, nil
}

// fromAny says a problem is about one of the settings (or below them).
func fromAny(problem string, keys []string) bool {
	for _, k := range keys {
		if len(validate.Problems{problem}.WithPrefix(k)) > 0 {
			return true
		}
	}
	return false
}

// readSecrets reads the secret keys into a.Secrets. An unset key is left nil (the platform
// generates it, or reports it when it cannot); one stored in plain text is refused, so no
// password reaches Pulumi.<stack>.yaml or state unencrypted.
func readSecrets(ctx *pulumi.Context, a *platform.Args) (map[string]string, []string) {
	s := &a.Secrets
	targets := map[string]*pulumi.StringInput{
		platform.SecretAdminPassword:          &s.AdminPassword,
		platform.SecretEncryptionKey:          &s.EncryptionKey,
		platform.SecretMySQLRootPassword:      &s.MySQLRootPassword,
		platform.SecretMySQLPassword:          &s.MySQLPassword,
		platform.SecretAnalyticsAdminPassword: &s.AnalyticsAdminPassword,
		platform.SecretMoesifKey:              &s.MoesifKey,
		platform.SecretIngressTLSCertificate:  &s.IngressTLSCertificate,
		platform.SecretIngressTLSKey:          &s.IngressTLSKey,
	}
	values := map[string]string{}
	var problems []string
	for _, key := range platform.SecretKeys() {
		full := ctx.Project() + ":" + key
		v, ok := ctx.GetConfig(full)
		switch {
		case !ok || v == "":
		case !ctx.IsConfigSecret(full):
			problems = append(problems, fmt.Sprintf("%s: is stored in plain text; remove it and set it with `pulumi config set --secret %s <value>`", key, key))
		default:
			values[key] = v
			*targets[key] = pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
		}
	}
	return values, problems
}
