package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
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

// LoadConfig reads every top-level key, applies the stack defaults and validates the result.
// It returns a *ConfigError listing all problems at once.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	cfg := &Config{}
	var problems []string
	for _, k := range cfg.keys() {
		if p := decodeKey(k.name, config.Get(ctx, k.name), k.into); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) == 0 {
		applyDefaults(cfg, ctx.Stack())
		// Which secrets are needed depends on the config (e.g. the analytics mode).
		cfg.secrets, problems = readSecrets(ctx, cfg.requiredSecrets())
		problems = append(problems, validate(cfg)...)
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Stack: ctx.Stack(), Problems: problems}
	}
	return cfg, nil
}

type configKey struct {
	name string
	into any
}

// keys lists the top-level config keys and where each is decoded to. Pulumi.yaml must declare
// exactly these (a test holds the two together).
func (c *Config) keys() []configKey {
	return []configKey{
		{"cluster", &c.Cluster},
		{"nodePool", &c.NodePool},
		{"apim", &c.APIM},
		{"gateway", &c.Gateway},
		{"mysql", &c.MySQL},
		{"backend", &c.Backend},
		{"nfs", &c.NFS},
		{"ingress", &c.Ingress},
		{"publisher", &c.Publisher},
		{"analytics", &c.Analytics},
	}
}

// Keys returns the names of the top-level config keys the program reads, secrets included.
func Keys() []string {
	names := SecretKeys()
	for _, k := range (&Config{}).keys() {
		names = append(names, k.name)
	}
	return names
}

// decodeKey decodes one key's JSON value strictly: a misspelt field is an error, not a
// silently ignored setting.
func decodeKey(key, raw string, into any) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	err := dec.Decode(into)
	if err == nil {
		return ""
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("%s.%s: got a %s, want %s", key, typeErr.Field, typeErr.Value, kindOf(typeErr.Type.String()))
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s: got a %s, want an object of settings", key, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("%s: %q is not a YAML object: %v", key, raw, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return fmt.Sprintf("%s: unknown setting %s; see Pulumi.yaml or the README for the valid keys", key, field)
	default:
		return fmt.Sprintf("%s: %v", key, err)
	}
}

func kindOf(goType string) string {
	t := strings.TrimPrefix(goType, "*")
	switch {
	case strings.HasPrefix(t, "int"):
		return "an integer"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a map of strings"
	default:
		return "an object"
	}
}

// readSecrets reads every secret key; a missing key or one stored in plain text is a problem.
func readSecrets(ctx *pulumi.Context, keys []string) (map[string]string, []string) {
	out := map[string]string{}
	var problems []string
	for _, key := range keys {
		full := ctx.Project() + ":" + key
		v, ok := ctx.GetConfig(full)
		switch {
		case !ok || v == "":
			problems = append(problems, fmt.Sprintf("%s: missing; set it with `pulumi config set --secret %s <value>`", key, key))
		case !ctx.IsConfigSecret(full):
			problems = append(problems, fmt.Sprintf("%s: is stored in plain text; remove it and set it with `pulumi config set --secret %s <value>`", key, key))
		default:
			out[key] = v
		}
	}
	return out, problems
}

// secret returns a secret config value as a Pulumi secret.
func (c *Config) secret(key string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(c.secrets[key])).(pulumi.StringOutput)
}
