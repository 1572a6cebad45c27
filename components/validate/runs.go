package validate

import "sync"

// runs counts, while a test has turned counting on (CountRuns), how many times each args
// type was defaulted and validated. A Platform resolves its args once and its components
// trust what it hands them; a test holds it to that, since a second pass is invisible in the
// resource graph (it gives the same result) and only costs and confuses.
var runs struct {
	sync.Mutex
	n map[string]int
}

// Ran records one defaulting or validation pass of what (e.g. "apim.GatewayArgs.WithDefaults")
// when counting is on; otherwise it does nothing.
func Ran(what string) {
	runs.Lock()
	defer runs.Unlock()
	if runs.n != nil {
		runs.n[what]++
	}
}

// CountRuns turns counting on and returns the function that turns it off and reports the
// counts. Counting is process-wide: a test that uses it must not run in parallel with others
// that default or validate args.
func CountRuns() (stop func() map[string]int) {
	runs.Lock()
	runs.n = map[string]int{}
	runs.Unlock()
	return func() map[string]int {
		runs.Lock()
		defer runs.Unlock()
		n := runs.n
		runs.n = nil
		return n
	}
}
