//go:build realpods

package realpods

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// tracker samples a workload's pods and its Service's ready endpoints every 250 ms: what the
// rollout looked like, and when each pod was going away (the windows failures are judged in).
type tracker struct {
	k                     *kube
	ns, selector, service string
	start                 time.Time

	mu       sync.Mutex
	samples  []trackSample
	deleting map[string]time.Time
	gone     map[string]time.Time
	alive    map[string]bool
	stop     chan struct{}
	done     chan struct{}
}

type trackSample struct {
	at                            time.Duration
	line                          string
	pods, serving, readyEndpoints int
	sawEndpoints                  bool
}

// track starts sampling the pods labelled app.kubernetes.io/name=name and the endpoints of
// Service service.
func track(k *kube, ns, name, service string) *tracker {
	return trackSelector(k, ns, "app.kubernetes.io/name="+name, service)
}

// trackSelector starts sampling the pods that match a label selector and the endpoints of
// Service service.
func trackSelector(k *kube, ns, selector, service string) *tracker {
	tr := &tracker{k: k, ns: ns, selector: selector, service: service, start: time.Now(),
		deleting: map[string]time.Time{}, gone: map[string]time.Time{}, alive: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			tr.sample()
			select {
			case <-tr.stop:
				tr.sample()
				return
			case <-tick.C:
			}
		}
	}()
	return tr
}

func (tr *tracker) sample() {
	now := time.Now()
	var pods list
	sel := url.QueryEscape(tr.selector)
	if _, err := tr.k.get("/api/v1/namespaces/"+tr.ns+"/pods?labelSelector="+sel, &pods); err != nil {
		return
	}
	var slices list
	_, err := tr.k.get("/apis/discovery.k8s.io/v1/namespaces/"+tr.ns+"/endpointslices?labelSelector="+
		url.QueryEscape("kubernetes.io/service-name="+tr.service), &slices)
	s := trackSample{at: now.Sub(tr.start), pods: len(pods.Items), sawEndpoints: err == nil}
	for _, sl := range slices.Items {
		eps, _ := sl["endpoints"].([]any)
		for _, e := range eps {
			if ready, _ := object(e.(map[string]any)).path("conditions", "ready").(bool); ready {
				s.readyEndpoints++
			}
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var parts []string
	present := map[string]bool{}
	for _, p := range pods.Items {
		// By UID: a StatefulSet's replacement pod has its predecessor's name.
		name, uid := p.str("metadata", "name"), p.str("metadata", "uid")
		present[uid] = true
		tr.alive[uid] = true
		state := "starting"
		for _, c := range asList(p.path("status", "conditions")) {
			if c.str("type") == "Ready" && c.str("status") == "True" {
				state = "ready"
			}
		}
		if p.path("metadata", "deletionTimestamp") != nil {
			state = "terminating"
			if _, ok := tr.deleting[uid]; !ok {
				tr.deleting[uid] = now
			}
		} else if state == "ready" {
			s.serving++
		}
		image := ""
		if cs := asList(p.path("spec", "containers")); len(cs) > 0 {
			image = cs[0].str("image")
			image = image[strings.LastIndex(image, ":")+1:]
		}
		node := p.str("spec", "nodeName")
		if i := strings.LastIndex(node, "-"); i >= 0 {
			node = node[i+1:]
		}
		parts = append(parts, fmt.Sprintf("%s(%s@%s) %s", name[len(name)-5:], image, node, state))
	}
	for uid := range tr.alive {
		if !present[uid] {
			if _, ok := tr.gone[uid]; !ok {
				tr.gone[uid] = now
			}
		}
	}
	sort.Strings(parts)
	s.line = fmt.Sprintf("pods=%d serving=%d endpoints-ready=%d  %s", s.pods, s.serving, s.readyEndpoints, strings.Join(parts, ", "))
	tr.samples = append(tr.samples, s)
}

func asList(v any) []object {
	items, _ := v.([]any)
	out := make([]object, 0, len(items))
	for _, i := range items {
		if m, ok := i.(map[string]any); ok {
			out = append(out, object(m))
		}
	}
	return out
}

// Stop ends sampling.
func (tr *tracker) Stop() {
	close(tr.stop)
	<-tr.done
}

// windows are the intervals in which some pod was terminating (from its deletion until it was
// gone from the API), with two seconds either side for endpoints and kube-proxy to catch up.
func (tr *tracker) windows() []window {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []window
	for uid, from := range tr.deleting {
		to, ok := tr.gone[uid]
		if !ok {
			to = time.Now()
		}
		out = append(out, window{from: from.Add(-2 * time.Second), to: to.Add(2 * time.Second)})
	}
	return out
}

// terminated counts the pods seen going away.
func (tr *tracker) terminated() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.deleting)
}

// minServing is the fewest ready endpoints of the Service at any sample, and maxPods the most
// pods at any sample.
func (tr *tracker) minReadyEndpoints() (min, maxPods int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	min = -1
	for _, s := range tr.samples {
		if s.sawEndpoints && (min < 0 || s.readyEndpoints < min) {
			min = s.readyEndpoints
		}
		if s.pods > maxPods {
			maxPods = s.pods
		}
	}
	return min, maxPods
}

func (tr *tracker) print(title string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	fmt.Printf("ROLLOUT TRACE %s (t since load start)\n", title)
	last := ""
	for _, s := range tr.samples {
		if s.line != last {
			fmt.Printf("  %7.2fs %s\n", s.at.Seconds(), s.line)
			last = s.line
		}
	}
}
