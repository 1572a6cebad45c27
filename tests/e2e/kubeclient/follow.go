package kubeclient

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// Listed is the Type of an Event for an object of the initial list.
const Listed watch.EventType = "LISTED"

// Event is what a Follower saw: an object of the initial list (Type Listed) or a watch event
// (Added, Modified, Deleted), with the time it arrived.
type Event struct {
	Type   watch.EventType
	Object runtime.Object
	At     time.Time
}

// Meta is the event's object's metadata (name, UID, ResourceVersion...).
func (e Event) Meta() metav1.Object {
	m, err := meta.Accessor(e.Object)
	if err != nil {
		return &metav1.ObjectMeta{}
	}
	return m
}

// Follower lists a set of objects and then watches it from the list's ResourceVersion with
// client-go's RetryWatcher, which resumes a dropped watch from the last ResourceVersion it
// delivered: every change of every object is seen once, in the order the API server made them,
// not what a sample every so often happened to catch.
type Follower struct {
	lw     cache.ListerWatcherWithContext
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	latest map[types.UID]string // the last ResourceVersion seen of each object still there
	events int
	err    error
}

// Follow lists what lw lists, calls on for each listed object (before it returns) and then, from
// one goroutine, for every watch event until Stop or Close, or ctx ends.
func Follow(ctx context.Context, lw cache.ListerWatcherWithContext, on func(Event)) (*Follower, error) {
	list, err := lw.ListWithContext(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	f := &Follower{lw: lw, done: make(chan struct{}), latest: map[types.UID]string{}}
	now := time.Now()
	for _, o := range items {
		f.deliver(Event{Type: Listed, Object: o, At: now}, on)
	}
	ctx, f.cancel = context.WithCancel(ctx)
	rw, err := watchtools.NewRetryWatcherWithContext(ctx, lm.GetResourceVersion(), lw)
	if err != nil {
		f.cancel()
		return nil, err
	}
	go func() {
		defer close(f.done)
		defer rw.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-rw.ResultChan():
				if !ok {
					return
				}
				switch ev.Type {
				case watch.Bookmark:
				case watch.Error:
					f.mu.Lock()
					f.err = fmt.Errorf("watch: %v", ev.Object)
					f.mu.Unlock()
				default:
					f.deliver(Event{Type: ev.Type, Object: ev.Object, At: time.Now()}, on)
				}
			}
		}
	}()
	return f, nil
}

func (f *Follower) deliver(e Event, on func(Event)) {
	m := e.Meta()
	f.mu.Lock()
	if e.Type == watch.Deleted {
		delete(f.latest, m.GetUID())
	} else {
		f.latest[m.GetUID()] = m.GetResourceVersion()
	}
	f.events++
	f.mu.Unlock()
	on(e)
}

// Events is how many events (listed objects included) were delivered.
func (f *Follower) Events() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events
}

// Sync waits until the Follower has seen what a fresh list shows: each listed object at its
// ResourceVersion (or a later one), and the deletion of every object the list lacks.
func (f *Follower) Sync(ctx context.Context) error {
	list, err := f.lw.ListWithContext(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	want := map[types.UID]string{}
	for _, o := range items {
		if m, err := meta.Accessor(o); err == nil {
			want[m.GetUID()] = m.GetResourceVersion()
		}
	}
	for {
		f.mu.Lock()
		behind := caughtUp(f.latest, want)
		err := f.err
		f.mu.Unlock()
		if behind == "" {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("watch still behind the API server: %s", behind)
		case <-f.done:
			return fmt.Errorf("watch ended behind the API server: %s", behind)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// caughtUp says what of want the latest ResourceVersions have not reached ("" when nothing).
// ResourceVersions are compared as numbers where both are (as the API server's etcd storage
// makes them), else only for equality.
func caughtUp(latest, want map[types.UID]string) string {
	for uid, rv := range want {
		seen, ok := latest[uid]
		if !ok {
			return fmt.Sprintf("%s not seen at %s", uid, rv)
		}
		if seen == rv {
			continue
		}
		a, errA := strconv.ParseUint(seen, 10, 64)
		b, errB := strconv.ParseUint(rv, 10, 64)
		if errA != nil || errB != nil || a < b {
			return fmt.Sprintf("%s seen at %s, listed at %s", uid, seen, rv)
		}
	}
	for uid := range latest {
		if _, ok := want[uid]; !ok {
			return fmt.Sprintf("%s gone but its deletion not seen", uid)
		}
	}
	return ""
}

// Stop waits (within timeout) until the Follower has caught up with the API server (Sync),
// then ends the watch. The error is Sync's, or the first the watch reported.
func (f *Follower) Stop(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := f.Sync(ctx)
	f.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = f.err
	}
	return err
}

// Close ends the watch at once.
func (f *Follower) Close() {
	f.cancel()
	<-f.done
}

// ListWatch lists and watches a resource (plural name) in namespace ("" for every namespace or
// a cluster-scoped resource), optionally narrowed by label and field selectors, through rc: a
// typed client's RESTClient() for the resource's API group, so that the events carry typed
// objects (*corev1.Pod from CoreV1().RESTClient()).
func ListWatch(rc cache.Getter, resource, namespace, labelSelector, fieldSelector string) cache.ListerWatcherWithContext {
	return cache.NewFilteredListWatchFromClient(rc, resource, namespace, func(o *metav1.ListOptions) {
		o.LabelSelector, o.FieldSelector = labelSelector, fieldSelector
	})
}

// WaitFor follows what lw lists and returns once cond holds of the objects there (as Objects,
// numbers as int64), checked when the list is in and after every event after it; it fails when
// ctx ends first.
func WaitFor(ctx context.Context, lw cache.ListerWatcherWithContext, cond func([]Object) bool) error {
	var (
		mu     sync.Mutex
		objs   = map[types.UID]Object{}
		listed bool
		done   = make(chan struct{})
		once   sync.Once
	)
	check := func() {
		list := make([]Object, 0, len(objs))
		for _, o := range objs {
			list = append(list, o)
		}
		if cond(list) {
			once.Do(func() { close(done) })
		}
	}
	f, err := Follow(ctx, lw, func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		uid := e.Meta().GetUID()
		if e.Type == watch.Deleted {
			delete(objs, uid)
		} else if o, err := runtime.DefaultUnstructuredConverter.ToUnstructured(e.Object); err == nil {
			objs[uid] = o
		}
		if listed {
			check()
		}
	})
	if err != nil {
		return err
	}
	defer f.Close()
	mu.Lock()
	listed = true
	check()
	mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
