package propagation

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultWait is how long a just-created IAM binding or enabled API is given before it is
// used. Google documents that an allow-policy change "typically" propagates in 2 minutes and
// may take 7 or more (IAM docs, "Access change propagation"); API enablement has no published
// figure, and 30 to 120 s waits are what Google's own Terraform samples use after it.
const DefaultWait = 120 * time.Second

// Wait waits d after a resource is created, so that what depends on the resource starts only
// then. It is a resource hook, not a sleep in the program: the engine runs after-create hooks
// only when it has really created (or replaced) the resource, and before it reports that
// resource done to its dependents (pulumi/pulumi pkg/resource/deploy/step.go, CreateStep.Apply
// runs AfterCreate hooks before completing the registration). A preview, or an update that
// leaves the resource alone, never waits. Time has no other source here: pulumi-time is not
// available to this project, and pulumi-gcp has no timer resource.
type Wait struct {
	hook *pulumi.ResourceHook
	d    time.Duration
}

// New registers the hook under name, which must be unique in the program (derive it from the
// component's name). A zero d returns a Wait that adds nothing.
func New(ctx *pulumi.Context, name string, d time.Duration) (*Wait, error) {
	if d <= 0 {
		return &Wait{}, nil
	}
	hook, err := ctx.RegisterResourceHook(name, Sleep(ctx, d, time.Sleep), nil)
	if err != nil {
		return nil, fmt.Errorf("propagation wait %q: %w", name, err)
	}
	return &Wait{hook: hook, d: d}, nil
}

// After is the option that puts the wait at the end of a resource's creation.
func (w *Wait) After() pulumi.ResourceOption {
	if w == nil || w.hook == nil {
		return pulumi.ResourceHooks(nil)
	}
	return pulumi.ResourceHooks(&pulumi.ResourceHookBinding{AfterCreate: []*pulumi.ResourceHook{w.hook}})
}

// Duration is the wait (0: none).
func (w *Wait) Duration() time.Duration {
	if w == nil {
		return 0
	}
	return w.d
}

// Sleep is the hook's body: it says why nothing happens for d, then sleeps.
func Sleep(ctx *pulumi.Context, d time.Duration, sleep func(time.Duration)) pulumi.ResourceHookFunction {
	return func(args *pulumi.ResourceHookArgs) error {
		if ctx != nil {
			_ = ctx.Log.Info(fmt.Sprintf("waiting %s for %s %s to propagate before it is used", d, args.Type, args.Name), nil)
		}
		sleep(d)
		return nil
	}
}
