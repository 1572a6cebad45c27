package ingress

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cloud Armor takes at most 10 ranges in a basic (source range) match.
const armorRangesPerRule = 10

// Rule priorities of the admin policy: the allowed ranges first, then the deny of the admin
// paths for everyone else, then Cloud Armor's default rule (which must be declared, or the
// provider shows it as a change on every preview).
const (
	allowPriority   = 1000
	denyPriority    = 2000
	defaultPriority = 2147483647
)

// AdminPathExpression is the Cloud Armor expression matching the admin paths: on the decoded,
// lower-cased path, so "/%63arbon", "/Carbon" and "//carbon", which the server resolves to
// /carbon, are caught too.
func AdminPathExpression(paths []string) string {
	var alts []string
	for _, p := range paths {
		alts = append(alts, regexp.QuoteMeta(strings.Trim(strings.ToLower(p), "/")))
	}
	return fmt.Sprintf("request.path.urlDecode().lower().matches('^/+(%s)([/?;]|$)')", strings.Join(alts, "|"))
}

// newAdminPolicy is the Cloud Armor policy the admin routes' backends get: allowed ranges
// pass, anyone else gets 403 on the admin paths, everything else passes.
func newAdminPolicy(ctx *pulumi.Context, name string, a Args, paths []string, opts ...pulumi.ResourceOption) (*compute.SecurityPolicy, error) {
	var rules compute.SecurityPolicyRuleTypeArray
	for i := 0; i < len(a.AdminAllowedCIDRs); i += armorRangesPerRule {
		chunk := a.AdminAllowedCIDRs[i:min(i+armorRangesPerRule, len(a.AdminAllowedCIDRs))]
		rules = append(rules, compute.SecurityPolicyRuleTypeArgs{
			Action: pulumi.String("allow"), Priority: pulumi.Int(allowPriority + i/armorRangesPerRule),
			Description: pulumi.String("operators may reach the admin paths"),
			Match: compute.SecurityPolicyRuleMatchArgs{VersionedExpr: pulumi.String("SRC_IPS_V1"),
				Config: &compute.SecurityPolicyRuleMatchConfigArgs{SrcIpRanges: pulumi.ToStringArray(chunk)}},
		})
	}
	rules = append(rules,
		compute.SecurityPolicyRuleTypeArgs{
			Action: pulumi.String("deny(403)"), Priority: pulumi.Int(denyPriority),
			Description: pulumi.String("admin paths from anywhere else"),
			Match:       compute.SecurityPolicyRuleMatchArgs{Expr: &compute.SecurityPolicyRuleMatchExprArgs{Expression: pulumi.String(AdminPathExpression(paths))}},
		},
		compute.SecurityPolicyRuleTypeArgs{
			Action: pulumi.String("allow"), Priority: pulumi.Int(defaultPriority),
			Description: pulumi.String("default rule"),
			Match: compute.SecurityPolicyRuleMatchArgs{VersionedExpr: pulumi.String("SRC_IPS_V1"),
				Config: &compute.SecurityPolicyRuleMatchConfigArgs{SrcIpRanges: pulumi.ToStringArray([]string{"*"})}},
		})
	return compute.NewSecurityPolicy(ctx, name+"-admin", &compute.SecurityPolicyArgs{
		Project:     pulumi.String(a.Project),
		Description: pulumi.String("API Manager admin paths: " + strings.Join(paths, ", ") + " only from ingress.adminAllowedCidrs"),
		Rules:       rules,
	}, opts...)
}
