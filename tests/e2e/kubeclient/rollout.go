package kubeclient

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// Rollout is what two watches saw of a Deployment and its ReplicaSets: one Step for every
// event of either (every ResourceVersion), in the order they arrived.
type Rollout struct {
	Name      string
	start     time.Time
	followers []*Follower

	mu         sync.Mutex
	deployment *appsv1.Deployment
	current    map[string]*appsv1.ReplicaSet // by name, the ones not deleted
	seen       map[string]bool               // every ReplicaSet's name
	steps      []Step
}

// Step is the state after one event: the Deployment's replicas as of its latest
// ResourceVersion seen, and each ReplicaSet's.
type Step struct {
	At                          time.Duration
	Kind, Name, ResourceVersion string          // the object of the event
	Type                        watch.EventType // Listed, Added, Modified, Deleted
	Desired, Available, Updated int32           // the Deployment's spec.replicas and status
	ReplicaSets                 string          // hash=available/replicas of each ReplicaSet
}

func (s Step) String() string {
	return fmt.Sprintf("%s %s@%s: desired=%d available=%d updated=%d rs[%s]",
		s.Type, s.Kind, s.ResourceVersion, s.Desired, s.Available, s.Updated, s.ReplicaSets)
}

// TraceRollout follows Deployment name in namespace and the ReplicaSets selector selects until
// Stop.
func TraceRollout(ctx context.Context, cs kubernetes.Interface, namespace, name, selector string) (*Rollout, error) {
	r := &Rollout{Name: name, start: time.Now(), current: map[string]*appsv1.ReplicaSet{}, seen: map[string]bool{}}
	apps := cs.AppsV1().RESTClient()
	d, err := Follow(ctx, ListWatch(apps, "deployments", namespace, "", "metadata.name="+name), r.on)
	if err != nil {
		return nil, fmt.Errorf("deployment %s: %w", name, err)
	}
	rs, err := Follow(ctx, ListWatch(apps, "replicasets", namespace, selector, ""), r.on)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("replicasets %s: %w", selector, err)
	}
	r.followers = []*Follower{d, rs}
	return r, nil
}

func (r *Rollout) on(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var kind string
	switch o := e.Object.(type) {
	case *appsv1.Deployment:
		kind = "Deployment"
		if e.Type == watch.Deleted {
			r.deployment = nil
		} else {
			r.deployment = o
		}
	case *appsv1.ReplicaSet:
		kind = "ReplicaSet"
		r.seen[o.Name] = true
		if e.Type == watch.Deleted {
			delete(r.current, o.Name)
		} else {
			r.current[o.Name] = o
		}
	default:
		return
	}
	// As a sample of a missing Deployment was skipped, so is a step before it is seen.
	if r.deployment == nil {
		return
	}
	m := e.Meta()
	s := Step{At: e.At.Sub(r.start), Kind: kind, Name: m.GetName(), ResourceVersion: m.GetResourceVersion(), Type: e.Type,
		Available: r.deployment.Status.AvailableReplicas, Updated: r.deployment.Status.UpdatedReplicas, Desired: 1}
	if r.deployment.Spec.Replicas != nil {
		s.Desired = *r.deployment.Spec.Replicas
	}
	var parts []string
	for n, rs := range r.current {
		var want int32
		if rs.Spec.Replicas != nil {
			want = *rs.Spec.Replicas
		}
		parts = append(parts, fmt.Sprintf("%s=%d/%d", strings.TrimPrefix(n, r.Name+"-"), rs.Status.AvailableReplicas, want))
	}
	sort.Strings(parts)
	s.ReplicaSets = strings.Join(parts, " ")
	r.steps = append(r.steps, s)
}

// Stop waits (within timeout) until both watches have caught up with the API server, then
// ends them.
func (r *Rollout) Stop(timeout time.Duration) error {
	var errs []string
	for _, f := range r.followers {
		if err := f.Stop(timeout); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("rollout %s: %s", r.Name, strings.Join(errs, "; "))
	}
	return nil
}

// Steps are every step so far.
func (r *Rollout) Steps() []Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Step(nil), r.steps...)
}

// ReplicaSets counts the ReplicaSets seen.
func (r *Rollout) ReplicaSets() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// Print writes every step, one a line.
func (r *Rollout) Print(w io.Writer) {
	fmt.Fprintf(w, "ROLLOUT TRACE %s (t, event, desired, available, updated, replicasets available/replicas), every event\n", r.Name)
	for _, s := range r.Steps() {
		fmt.Fprintf(w, "  %7.2fs %s\n", s.At.Seconds(), s)
	}
}
