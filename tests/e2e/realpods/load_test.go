//go:build realpods

package realpods

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// load sends requests at a fixed rate, each on a new connection (as many clients would), and
// records every outcome with its time, so that failures can be set against what the pods were
// doing at that moment.
type load struct {
	url, expect string
	header      http.Header
	client      *http.Client
	start       time.Time

	mu      sync.Mutex
	results []outcome
	stop    chan struct{}
	wg      sync.WaitGroup
}

type outcome struct {
	at      time.Time
	latency time.Duration
	kind    string // "" for success, else refused, reset, timeout, eof, http-<code>, bad-body, other
	detail  string
}

const requestTimeout = 5 * time.Second

// startLoad sends rps requests per second to url until Stop; a success is a 200 whose body
// contains expect. header (may be nil) is sent with every request.
func startLoad(url string, rps int, expect string, header http.Header) *load {
	l := &load{url: url, expect: expect, header: header, start: time.Now(), stop: make(chan struct{}),
		client: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext:       (&net.Dialer{Timeout: requestTimeout}).DialContext,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the stand-ins' self-signed certificates
		}}}
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
				l.wg.Add(1)
				go func() { defer l.wg.Done(); l.one() }()
			}
		}
	}()
	return l
}

func (l *load) one() {
	req, _ := http.NewRequest(http.MethodGet, l.url, nil)
	for k, v := range l.header {
		req.Header[k] = v
	}
	at := time.Now()
	o := outcome{at: at}
	resp, err := l.client.Do(req)
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case rerr != nil:
			err = rerr
		case resp.StatusCode != http.StatusOK:
			o.kind, o.detail = fmt.Sprintf("http-%d", resp.StatusCode), strings.TrimSpace(string(body))
		case !strings.Contains(string(body), l.expect):
			o.kind, o.detail = "bad-body", strings.TrimSpace(string(body))
		}
	}
	if err != nil {
		o.kind, o.detail = classify(err), err.Error()
	}
	o.latency = time.Since(at)
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
	rps                                       float64
	p50, p99                                  time.Duration
}

func (r report) judge(windows []window) verdict {
	v := verdict{total: len(r.outcomes), byKind: map[string]int{}}
	var lat []time.Duration
	for _, o := range r.outcomes {
		lat = append(lat, o.latency)
		if o.kind == "" {
			continue
		}
		v.failed++
		v.byKind[o.kind]++
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
	return fmt.Sprintf("%d failed of %d requests (%.1f/s; latency p50 %s, p99 %s); counted against the rollout %d, timeouts outside it %d [%s]",
		v.failed, v.total, v.rps, v.p50.Round(time.Millisecond), v.p99.Round(time.Millisecond), v.counted, v.unrelatedTimeouts, strings.Join(kinds, " "))
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
		fmt.Fprintf(&b, "    %7.2fs %-9s %s\n", o.at.Sub(r.start).Seconds(), o.kind, truncate(o.detail, 140))
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
