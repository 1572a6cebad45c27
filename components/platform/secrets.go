package platform

import (
	"strings"
	"unicode"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/secrets"
)

// secrets resolves every secret value: the caller's when set, else one generated on the first
// `up` and kept. The generated ones are protected like the data they guard: a regenerated
// encryption key would make everything encrypted with the old one unreadable.
func (b *builder) secrets() error {
	s := b.a.Secrets
	wanted := []struct {
		key  string
		set  pulumi.StringInput
		kind secrets.Kind
	}{
		{SecretAdminPassword, s.AdminPassword, secrets.Password},
		{SecretEncryptionKey, s.EncryptionKey, secrets.HexKey},
		{SecretMySQLRootPassword, s.MySQLRootPassword, secrets.Password},
		{SecretMySQLPassword, s.MySQLPassword, secrets.Password},
	}
	if b.a.Analytics.Mode == analytics.ModeOpenSearch {
		wanted = append(wanted, struct {
			key  string
			set  pulumi.StringInput
			kind secrets.Kind
		}{SecretAnalyticsAdminPassword, s.AnalyticsAdminPassword, secrets.Password})
	}
	b.secret = map[string]pulumi.StringOutput{}
	var generate []secrets.Spec
	for _, w := range wanted {
		if w.set != nil {
			b.secret[w.key] = pulumi.ToSecret(w.set).(pulumi.StringOutput)
			continue
		}
		generate = append(generate, secrets.Spec{Name: kebab(w.key), Kind: w.kind})
	}
	generated := pulumi.StringMap{}
	if len(generate) > 0 {
		g, err := secrets.NewGenerated(b.ctx, b.child("secrets"), &secrets.Args{
			Namespace: b.namespace,
			Prefix:    "generated",
			Values:    generate,
			Protect:   b.a.MySQL.Protect,
		}, b.withK8s()...)
		if err != nil {
			return err
		}
		for _, w := range wanted {
			if v, ok := g.Values[kebab(w.key)]; ok {
				b.secret[w.key] = v
				generated[w.key] = v
			}
		}
	}
	b.p.GeneratedSecrets = pulumi.ToSecret(generated.ToStringMapOutput()).(pulumi.StringMapOutput)
	b.p.AdminPassword = b.secret[SecretAdminPassword]
	return nil
}

// kebab turns a config key (apimAdminPassword) into a Kubernetes name (apim-admin-password).
func kebab(key string) string {
	var b strings.Builder
	for _, r := range key {
		if unicode.IsUpper(r) {
			b.WriteByte('-')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// optional is a secret the caller may have set, as an output, or nil.
func optional(v pulumi.StringInput) pulumi.StringInput {
	if v == nil {
		return nil
	}
	return pulumi.ToSecret(v).(pulumi.StringOutput)
}
