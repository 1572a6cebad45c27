package kubeclient

import (
	"sync"
	"time"
)

// Milestones are conditions on a state S reached in order: each is judged from the moment the
// one before it was reached (the first from the moment they are armed), on the state after
// every change a watch delivers, and is reached at the first change after which it holds. A
// condition that held only between two samples is still seen, and its time is the event's,
// not the next sample's.
type Milestones[S any] struct {
	conds []func(S) bool

	mu   sync.Mutex
	at   []time.Time
	done chan struct{}
}

// NewMilestones arms conds.
func NewMilestones[S any](conds ...func(S) bool) *Milestones[S] {
	return &Milestones[S]{conds: conds, done: make(chan struct{})}
}

// Advance judges the next milestones on s as it is at now; the caller serialises the changes
// of s and calls it after each.
func (m *Milestones[S]) Advance(s S, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.at) < len(m.conds) && m.conds[len(m.at)](s) {
		m.at = append(m.at, now)
		if len(m.at) == len(m.conds) {
			close(m.done)
		}
	}
}

// Wait waits up to d for every milestone; it says whether all were reached.
func (m *Milestones[S]) Wait(d time.Duration) bool {
	// Reached already: said so whatever d is (a select would pick at random between a closed
	// channel and an expired timer).
	select {
	case <-m.done:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-m.done:
		return true
	case <-t.C:
		return false
	}
}

// Since is the time from start to milestone i, zero if it is not reached (yet).
func (m *Milestones[S]) Since(i int, start time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i >= len(m.at) {
		return 0
	}
	return m.at[i].Sub(start)
}

// Reached is how many milestones are reached.
func (m *Milestones[S]) Reached() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.at)
}
