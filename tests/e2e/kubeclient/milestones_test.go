package kubeclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A run of states as a watch would deliver them, one a second: the pod's readiness and the
// count of ready replicas.
type rollState struct {
	victimReady bool
	ready       int
}

func TestMilestonesAreReachedInOrderAtTheirEvent(t *testing.T) {
	t0 := time.Unix(1000, 0)
	gone := func(s rollState) bool { return !s.victimReady }
	whole := func(s rollState) bool { return s.ready == 2 }
	run := []rollState{
		{true, 2},  // armed: whole already holds, but only counts after the victim is gone
		{true, 2},  // 1 s
		{false, 1}, // 2 s: gone
		{false, 1}, // 3 s
		{false, 2}, // 4 s: whole again, for one event only
		{false, 1}, // 5 s
	}
	m := NewMilestones(gone, whole)
	for i, s := range run {
		m.Advance(s, t0.Add(time.Duration(i)*time.Second))
	}
	assert.True(t, m.Wait(0), "both reached")
	assert.Equal(t, 2*time.Second, m.Since(0, t0))
	assert.Equal(t, 4*time.Second, m.Since(1, t0), "the one event at 4 s counts, and no earlier state does")

	// Negative control: sampled every other second from 1 s (what a poller would see), the
	// moment at 4 s is missed and the workload is never seen whole.
	sampled := NewMilestones(gone, whole)
	for i := 1; i < len(run); i += 2 {
		sampled.Advance(run[i], t0.Add(time.Duration(i)*time.Second))
	}
	assert.False(t, sampled.Wait(10*time.Millisecond))
	assert.Equal(t, 1, sampled.Reached())
	assert.Zero(t, sampled.Since(1, t0))
}
