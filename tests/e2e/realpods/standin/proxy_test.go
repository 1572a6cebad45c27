package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cross-node check of the real-pods tier relies on this: with the header, every request
// reaches the backend on a connection of its own (so the Service balances it again); without
// it, sequential requests share one keep-alive connection.
func TestNewConnectionWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		ask         bool
		connections int64
	}{{ask: false, connections: 1}, {ask: true, connections: 3}} {
		var opened atomic.Int64
		var leaked atomic.Bool
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get(newConnectionHeader) != "" {
				leaked.Store(true)
			}
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				opened.Add(1)
			}
		}
		srv.Start()
		c := &http.Client{Transport: newConnectionWhenAsked{&http.Transport{}}}
		for i := 0; i < 3; i++ {
			req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
			require.NoError(t, err)
			if tc.ask {
				req.Header.Set(newConnectionHeader, "1")
			}
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
		}
		srv.Close()
		assert.Equal(t, tc.connections, opened.Load(), "connections opened for 3 requests, header sent: %v", tc.ask)
		assert.False(t, leaked.Load(), "the header is for the gateway, not the backend")
	}
}
