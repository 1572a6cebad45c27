package pack

import (
	"context"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/wso2-k8s/apim-gke/policy/rules"
)

// Name is the pack's name, as PulumiPolicy.yaml and the engine's output give it.
const Name = "wso2-apim"

// Version is the pack's version; it moves with the project's (CHANGELOG.md).
var Version = semver.MustParse("0.1.0")

// CannotJudge is the advisory policy under which the pack lists what the rules could not judge
// because a value is known only once the change is applied: never a pass, never a failure.
const CannotJudge = "cannot-judge"

// Production says whether a stack is held to the production-only rules (pinned images,
// protected state, no placeholder networks): the project's prod stack, or any stack named
// prod-<something>.
func Production(stack string) bool {
	return stack == "prod" || strings.HasPrefix(stack, "prod-")
}

// New is the pack for the stack the engine is previewing or updating.
func New(ctx *pulumi.Context) (policyx.PolicyPack, error) {
	return NewFor(rules.Env{Production: Production(ctx.Stack())})
}

// NewFor is the pack for an environment: one stack policy per rule, at the rule's enforcement
// level, and the advisory cannot-judge policy.
func NewFor(env rules.Env) (policyx.PolicyPack, error) {
	var policies []policyx.Policy
	for _, rule := range rules.Rules {
		policies = append(policies, policyx.NewStackValidationPolicy(rule.Name, policyx.StackValidationPolicyArgs{
			Description:      rule.Description,
			EnforcementLevel: level(rule.Enforcement),
			ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
				for _, f := range rule.Run(Graph(args.Resources), env) {
					if !f.Unjudged {
						args.Manager.ReportViolation(f.Message, "")
					}
				}
				return nil
			},
		}))
	}
	policies = append(policies, policyx.NewStackValidationPolicy(CannotJudge, policyx.StackValidationPolicyArgs{
		Description:      "what the rules could not judge because a value is known only once the change is applied",
		EnforcementLevel: policyx.EnforcementLevelAdvisory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			for _, f := range rules.Check(Graph(args.Resources), env) {
				if f.Unjudged {
					args.Manager.ReportViolation(f.String(), "")
				}
			}
			return nil
		},
	}))
	return policyx.NewPolicyPack(Name, Version, policyx.EnforcementLevelAdvisory, policies)
}

func level(e rules.Enforcement) policyx.EnforcementLevel {
	if e == rules.Advisory {
		return policyx.EnforcementLevelAdvisory
	}
	return policyx.EnforcementLevelMandatory
}
