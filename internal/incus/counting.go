package incus

import (
	"net/http"
	"sync/atomic"
	"time"

	incusclient "github.com/lxc/incus/v6/client"
)

// countingTransport counts the HTTP requests made to Incus, so benchmarks
// and tests can hold the tool to a constant number of calls per run.
type countingTransport struct {
	base  http.RoundTripper
	count *atomic.Int64
}

// totalRequests counts the requests of every client of this process (one
// protocol request per process, so this is the cost of that request).
var totalRequests atomic.Int64

// TotalRequests is the number of Incus API requests this process has made.
func TotalRequests() int64 { return totalRequests.Load() }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.count.Add(1)
	totalRequests.Add(1)
	return t.base.RoundTrip(r)
}

// Transport exposes the wrapped transport: the Incus client reaches for it
// (e.g. to copy its dialer for operations), and accepts this interface.
func (t countingTransport) Transport() *http.Transport {
	if tr, ok := t.base.(*http.Transport); ok {
		return tr
	}
	if tr, ok := t.base.(incusclient.HTTPTransporter); ok {
		return tr.Transport()
	}
	return nil
}

// httpTimeout bounds one HTTP exchange with Incus, so a hung daemon ends in
// a timeout error naming the call instead of a stuck run.
var httpTimeout = DefaultCallTimeout + 30*time.Second

// countRequests wraps the connection's HTTP transport (the Incus client
// offers a wrapper hook for HTTPS only, not for unix sockets).
func countRequests(srv incusclient.InstanceServer, n *atomic.Int64) error {
	hc, err := srv.GetHTTPClient()
	if err != nil {
		return err
	}
	hc.Transport = countingTransport{base: hc.Transport, count: n}
	// Every plain API call gets a hard bound; operation waits are bounded
	// by their own context in wait() and stay below this.
	hc.Timeout = httpTimeout
	return nil
}

// Requests is the number of Incus API requests this client has made.
func (c *Client) Requests() int64 { return c.requests.Load() }
