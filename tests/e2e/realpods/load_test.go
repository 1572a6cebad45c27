//go:build realpods

package realpods

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// load sends requests at a fixed rate and records every outcome with its time, so that
// failures can be set against what the pods were doing at that moment. Requests go on new
// connections (as many clients would), or, when the spec asks for keep-alive clients, every
// other one goes over one of a few persistent connections (as a busy client or proxy would).
// No request is ever sent twice without it being counted: new connections are never retried by
// Go's transport, keep-alive requests are POSTs whose body cannot be replayed, and every
// attempt to get a connection is counted (httptrace) so that a retry would show.
type load struct {
	spec  loadSpec
	fresh *http.Client
	kept  []*http.Client
	ticks atomic.Uint64
	start time.Time

	mu      sync.Mutex
	results []outcome
	stop    chan struct{}
	wg      sync.WaitGroup
}

// loadSpec is what a load sends.
type loadSpec struct {
	url string
	// expect must be in a 200's body for the request to succeed.
	expect string
	// header (may be nil) goes with every request.
	header http.Header
	// keepAlive is the number of persistent connections that carry every other request; 0
	// sends every request on a new connection.
	keepAlive int
	// form, when set, makes every request a POST of this form (the token endpoint); otherwise
	// requests on new connections are GETs and those on kept connections POSTs.
	form url.Values
}

type outcome struct {
	at      time.Time
	latency time.Duration
	kind    string // "" for success, else refused, reset, timeout, eof, http-<code>, bad-body, other
	detail  string
	mode    string // "new" or "keep-alive"
	pod     string // the pod that answered (X-Standin-Pod), if any
	// attempts is how many connections Go's transport asked for (more than one is a retry);
	// gatewayAttempts how many times the gateway sent the request to the backend.
	attempts, gatewayAttempts int
}

const (
	requestTimeout = 5 * time.Second
	// The stand-in gateway's count of its attempts at the backend (see standin/apim.go).
	gatewayAttemptsHeader = "X-Standin-Backend-Attempts"
)

func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the stand-ins' self-signed certificates
}

// startLoad sends rps requests per second, each on a new connection, to url until Stop; a
// success is a 200 whose body contains expect. header (may be nil) is sent with every request.
func startLoad(url string, rps int, expect string, header http.Header) *load {
	return startLoadSpec(loadSpec{url: url, expect: expect, header: header}, rps)
}

// startLoadSpec sends rps requests per second as spec says until Stop.
func startLoadSpec(spec loadSpec, rps int) *load {
	dial := (&net.Dialer{Timeout: requestTimeout}).DialContext
	l := &load{spec: spec, start: time.Now(), stop: make(chan struct{}),
		fresh: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
			DisableKeepAlives: true, DialContext: dial, TLSClientConfig: insecureTLS()}}}
	for i := 0; i < spec.keepAlive; i++ {
		// One connection each, kept for the whole load: kube-proxy picks its pod once.
		l.kept = append(l.kept, &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
			MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, IdleConnTimeout: 5 * time.Minute,
			DialContext: dial, TLSClientConfig: insecureTLS()}})
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(rps))
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				n := l.ticks.Add(1)
				var c *http.Client
				if len(l.kept) > 0 && n%2 == 1 {
					c = l.kept[(n/2)%uint64(len(l.kept))]
				}
				l.wg.Add(1)
				go func() { defer l.wg.Done(); l.one(c) }()
			}
		}
	}()
	return l
}

// request builds one request; body-carrying ones have no GetBody, so Go's transport cannot
// send them again on its own.
func (l *load) request(keepAlive bool) *http.Request {
	var req *http.Request
	switch {
	case l.spec.form != nil:
		req, _ = http.NewRequest(http.MethodPost, l.spec.url, strings.NewReader(l.spec.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case keepAlive:
		req, _ = http.NewRequest(http.MethodPost, l.spec.url, strings.NewReader("ping"))
	default:
		req, _ = http.NewRequest(http.MethodGet, l.spec.url, nil)
	}
	req.GetBody = nil
	for k, v := range l.spec.header {
		req.Header[k] = v
	}
	return req
}

func (l *load) one(kept *http.Client) {
	c, mode := l.fresh, "new"
	if kept != nil {
		c, mode = kept, "keep-alive"
	}
	var attempts atomic.Int32
	req := l.request(kept != nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GetConn: func(string) { attempts.Add(1) }}))
	at := time.Now()
	o := outcome{at: at, mode: mode}
	resp, err := c.Do(req)
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		o.pod = resp.Header.Get("X-Standin-Pod")
		o.gatewayAttempts, _ = strconv.Atoi(resp.Header.Get(gatewayAttemptsHeader))
		switch {
		case rerr != nil:
			err = rerr
		case resp.StatusCode != http.StatusOK:
			o.kind, o.detail = fmt.Sprintf("http-%d", resp.StatusCode), strings.TrimSpace(string(body))
		case !strings.Contains(string(body), l.spec.expect):
			o.kind, o.detail = "bad-body", strings.TrimSpace(string(body))
		}
	}
	if err != nil {
		o.kind, o.detail = classify(err), err.Error()
	}
	o.latency = time.Since(at)
	o.attempts = int(attempts.Load())
	l.mu.Lock()
	l.results = append(l.results, o)
	l.mu.Unlock()
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	}
	return "other"
}

// Stop waits for the requests in flight and returns every outcome in time order.
func (l *load) Stop() report {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := report{start: l.start, end: time.Now(), outcomes: append([]outcome(nil), l.results...)}
	sort.Slice(r.outcomes, func(i, j int) bool { return r.outcomes[i].at.Before(r.outcomes[j].at) })
	return r
}

type report struct {
	start, end time.Time
	outcomes   []outcome
}

type window struct{ from, to time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.from) && !t.After(w.to) }

// verdict splits failures into those that count against the rollout and timeouts that began
// outside every window in which a pod was going away (the machine is shared; such a timeout
// says nothing about the rollout). Everything but such timeouts counts.
type verdict struct {
	total, failed, counted, unrelatedTimeouts int
	byKind                                    map[string]int
	// Requests and failures by mode ("new", "keep-alive").
	totalByMode, failedByMode map[string]int
	// clientRetries: requests Go's transport sent more than once (must stay 0);
	// gatewayRetries: requests the gateway sent to the backend more than once.
	clientRetries, gatewayRetries int
	rps                           float64
	p50, p99                      time.Duration
}

func (r report) judge(windows []window) verdict {
	v := verdict{total: len(r.outcomes), byKind: map[string]int{}, totalByMode: map[string]int{}, failedByMode: map[string]int{}}
	var lat []time.Duration
	for _, o := range r.outcomes {
		lat = append(lat, o.latency)
		v.totalByMode[o.mode]++
		if o.attempts > 1 {
			v.clientRetries++
		}
		if o.gatewayAttempts > 1 {
			v.gatewayRetries++
		}
		if o.kind == "" {
			continue
		}
		v.failed++
		v.byKind[o.kind]++
		v.failedByMode[o.mode]++
		inWindow := false
		for _, w := range windows {
			if w.contains(o.at) || w.contains(o.at.Add(o.latency)) {
				inWindow = true
			}
		}
		if o.kind == "timeout" && !inWindow {
			v.unrelatedTimeouts++
		} else {
			v.counted++
		}
	}
	if d := r.end.Sub(r.start).Seconds(); d > 0 {
		v.rps = float64(v.total) / d
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		v.p50, v.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return v
}

// acceptable: no failure that counts, and unrelated timeouts at most 1 in 1,000.
func (v verdict) acceptable() bool { return v.counted == 0 && v.unrelatedTimeouts*1000 <= v.total }

func (v verdict) String() string {
	kinds := make([]string, 0, len(v.byKind))
	for k, n := range v.byKind {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	modes := ""
	if v.totalByMode["keep-alive"] > 0 {
		modes = fmt.Sprintf("; new connections %d failed of %d, keep-alive %d of %d", v.failedByMode["new"], v.totalByMode["new"],
			v.failedByMode["keep-alive"], v.totalByMode["keep-alive"])
	}
	return fmt.Sprintf("%d failed of %d requests (%.1f/s; latency p50 %s, p99 %s); counted against the rollout %d, timeouts outside it %d [%s]%s; client retries %d, gateway retries to the backend %d",
		v.failed, v.total, v.rps, v.p50.Round(time.Millisecond), v.p99.Round(time.Millisecond), v.counted, v.unrelatedTimeouts, strings.Join(kinds, " "),
		modes, v.clientRetries, v.gatewayRetries)
}

// faultString sums a fault's load up: every failure counts (a fault has no window outside it).
func (v verdict) faultString() string {
	kinds := make([]string, 0, len(v.byKind))
	for k, n := range v.byKind {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d failed of %d requests [%s] (%.1f/s; latency p50 %s, p99 %s); new connections %d failed of %d, keep-alive %d of %d; client retries %d, gateway retries to the backend %d",
		v.failed, v.total, strings.Join(kinds, " "), v.rps, v.p50.Round(time.Millisecond), v.p99.Round(time.Millisecond),
		v.failedByMode["new"], v.totalByMode["new"], v.failedByMode["keep-alive"], v.totalByMode["keep-alive"], v.clientRetries, v.gatewayRetries)
}

// fields are the verdict's figures for the JSON timings.
func (v verdict) fields() map[string]any {
	return map[string]any{
		"failed_requests": v.failed, "counted_failures": v.counted, "unrelated_timeouts": v.unrelatedTimeouts,
		"total_requests": v.total, "requests_per_second": float64(int(v.rps*10)) / 10, "failures_by_kind": v.byKind,
		"requests_by_mode": v.totalByMode, "failures_by_mode": v.failedByMode,
		"client_retries": v.clientRetries, "gateway_retries": v.gatewayRetries,
	}
}

// failures prints the first n failures relative to the load's start.
func (r report) failures(n int) string {
	var b strings.Builder
	for _, o := range r.outcomes {
		if o.kind == "" {
			continue
		}
		if n == 0 {
			b.WriteString("    ...\n")
			break
		}
		n--
		fmt.Fprintf(&b, "    %7.2fs %-9s %-10s %s\n", o.at.Sub(r.start).Seconds(), o.kind, o.mode, truncate(o.detail, 140))
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// between is the part of the report whose requests were sent in [from, to].
func (r report) between(from, to time.Time) report {
	out := report{start: from, end: to}
	for _, o := range r.outcomes {
		if !o.at.Before(from) && !o.at.After(to) {
			out.outcomes = append(out.outcomes, o)
		}
	}
	return out
}

// servedBy counts the successful requests by the pod that answered them.
func (r report) servedBy() map[string]int {
	m := map[string]int{}
	for _, o := range r.outcomes {
		if o.kind == "" {
			m[o.pod]++
		}
	}
	return m
}

// lastFailure is when the last failed request was sent (zero if none failed).
func (r report) lastFailure() time.Time {
	var last time.Time
	for _, o := range r.outcomes {
		if o.kind != "" && o.at.After(last) {
			last = o.at
		}
	}
	return last
}
