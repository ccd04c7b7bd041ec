package incus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// transport is how this package reaches one Incus server: plain net/http
// over the unix socket or over HTTPS with a client certificate.
type transport struct {
	hc      *http.Client
	base    string      // "http://incus" (unix socket) or "https://host:port"
	socket  string      // unix socket path, when local
	tls     *tls.Config // HTTPS only; also used for the event websocket
	where   string      // for error messages
	pin     string      // sha256 the server must present, when pinned
	counter *atomic.Int64

	// notReadyGaveUp holds, per member (notReadyKey), the unix ns until
	// which its not-ready answers are not waited out.
	notReadyMu     sync.Mutex
	notReadyGaveUp map[string]int64
	// guard, when set, is checked again before each re-send of a change
	// (the not-ready wait): a run that lost its stack lock while waiting
	// must not send it (Client.guard).
	guard func(context.Context) error
}

// httpTimeout bounds one HTTP exchange with Incus, so a hung daemon ends in
// a timeout error naming the call instead of a stuck run. Operation waits
// ask Incus to return before it (see waitOperation).
var httpTimeout = DefaultCallTimeout + 30*time.Second

func newUnixTransport(socket string, counter *atomic.Int64) *transport {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	return &transport{hc: &http.Client{Transport: countingTransport{base: tr, count: counter}, Timeout: httpTimeout},
		base: "http://incus", socket: socket, where: socket, counter: counter}
}

func newHTTPSTransport(baseURL string, conf *tls.Config, counter *atomic.Int64) *transport {
	tr := &http.Transport{
		TLSClientConfig:     conf,
		DialContext:         (&net.Dialer{Timeout: pinDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: pinDialTimeout,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &transport{hc: &http.Client{Transport: countingTransport{base: tr, count: counter}, Timeout: httpTimeout},
		base: strings.TrimSuffix(baseURL, "/"), tls: conf, where: baseURL, counter: counter}
}

// apiResponse is Incus's standard response envelope (sync, async or error).
type apiResponse struct {
	Type       string          `json:"type"`
	Status     string          `json:"status"`
	StatusCode int             `json:"status_code"`
	Operation  string          `json:"operation"`
	ErrorCode  int             `json:"error_code"`
	Error      string          `json:"error"`
	Metadata   json.RawMessage `json:"metadata"`
}

// statusError is the error an error answer carries: Incus's own code and
// message, else those of the HTTP status.
func (env *apiResponse) statusError(httpCode int) *StatusError {
	code := env.ErrorCode
	if code == 0 {
		code = httpCode
	}
	msg := env.Error
	if msg == "" {
		msg = http.StatusText(code)
	}
	return &StatusError{Code: code, Msg: msg}
}

// StatusError is an error answer from Incus with its HTTP status code.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return e.Msg }

// Unwrap gives the error kind the status code means, so callers test kinds
// with errors.Is and never parse messages.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict, http.StatusPreconditionFailed:
		return ErrConflict
	}
	return nil
}

// statusIs reports whether err is an Incus error answer with one of codes.
func statusIs(err error, codes ...int) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code == c {
			return true
		}
	}
	return false
}

// request is one HTTP exchange. body is JSON-encoded unless it is an
// io.Reader (file content); header adds headers (If-Match, X-Incus-*).
type request struct {
	method, path string // path starts with /1.0
	body         any
	header       http.Header
}

// do sends a request and decodes the envelope. Errors carry the kind:
// ErrUnreachable when Incus could not be asked, a *StatusError otherwise.
func (t *transport) do(ctx context.Context, r request) (env *apiResponse, etag string, err error) {
	sent := false
	err = t.untilReady(ctx, notReadyKey(r.path), r.body, func() error {
		if sent && r.method != http.MethodGet && t.guard != nil {
			if gerr := t.guard(ctx); gerr != nil {
				return gerr
			}
		}
		sent = true
		env, etag, err = t.doOnce(ctx, r)
		return err
	})
	return env, etag, err
}

// A member that has just come back shows as online before the others have
// reconnected to its event stream. Until they have (at their next
// heartbeat round, a few seconds later), a member forwarding a request to
// it refuses with a plain error, HTTP 500 "Server isn't ready yet", or,
// after waiting 10 s for the connection, "Missing event connection with
// target cluster member" (Incus 6.0 cluster.EventListenerWait). Both come
// before any handler runs, so the request is sent again, for up to
// notReadyWait.
//
// A member that died gets the same answers, for good, and the cluster's
// member status does not tell the two apart (a returning member may still
// show as offline; a dead one shows as online until the offline threshold
// passes). So once a wait has run out, the client stops waiting for
// notReadyCooloff: a dead member costs one wait, not one per request (seen
// hanging a rolling update for 93 s).
var (
	notReadyWait    = 20 * time.Second
	notReadyPause   = 500 * time.Millisecond
	notReadyCooloff = time.Minute
)

var notReadyMessages = []string{"Server isn't ready yet", "Missing event connection with target cluster member"}

// untilReady runs send again while the cluster answers that the member it
// needs is not ready (see above), when the request's body can be sent
// again. key names that member as well as the request tells
// (notReadyKey): the cool-off after a wait ran out is the member's own, so
// another member coming back meanwhile is still waited for.
func (t *transport) untilReady(ctx context.Context, key string, body any, send func() error) error {
	deadline := time.Now().Add(notReadyWait)
	for {
		err := send()
		if !isNotReady(err) || !replayable(body) || time.Now().UnixNano() < t.gaveUpUntil(key) {
			return err
		}
		if time.Now().After(deadline) {
			t.giveUp(key, time.Now().Add(notReadyCooloff).UnixNano())
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(notReadyPause):
		}
	}
}

func (t *transport) gaveUpUntil(key string) int64 {
	t.notReadyMu.Lock()
	defer t.notReadyMu.Unlock()
	return t.notReadyGaveUp[key]
}

func (t *transport) giveUp(key string, until int64) {
	t.notReadyMu.Lock()
	defer t.notReadyMu.Unlock()
	if t.notReadyGaveUp == nil {
		t.notReadyGaveUp = map[string]int64{}
	}
	t.notReadyGaveUp[key] = until
}

// notReadyKey names the member a request needs as well as the request
// tells: its ?target=, else the object it acts on (/1.0/instances/db-1),
// which lives on one member. A dead member's objects share its cool-off
// only per object, a bounded cost, and never hold up another member.
func notReadyKey(path string) string {
	p, query, _ := strings.Cut(path, "?")
	if q, err := url.ParseQuery(query); err == nil && q.Get("target") != "" {
		return "target=" + q.Get("target")
	}
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 4)
	return "/" + strings.Join(parts[:min(3, len(parts))], "/")
}

func isNotReady(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusInternalServerError {
		return false
	}
	for _, m := range notReadyMessages {
		if strings.Contains(se.Msg, m) {
			return true
		}
	}
	return false
}

// replayable: a JSON body is encoded anew for each send; a stream (file
// content) can be sent again only when it can be rewound.
func replayable(body any) bool {
	r, ok := body.(io.Reader)
	if !ok {
		return true
	}
	s, ok := r.(io.Seeker)
	if !ok {
		return false
	}
	_, err := s.Seek(0, io.SeekStart)
	return err == nil
}

func (t *transport) doOnce(ctx context.Context, r request) (*apiResponse, string, error) {
	resp, err := t.send(ctx, r)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var env apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, "", fmt.Errorf("%s %s: unreadable answer from Incus (HTTP %d): %v", r.method, r.path, resp.StatusCode, err)
	}
	if env.Type == "error" || resp.StatusCode >= 400 {
		return nil, "", env.statusError(resp.StatusCode)
	}
	return &env, resp.Header.Get("ETag"), nil
}

// send performs the HTTP exchange and returns the raw response; the caller
// closes its body. HTTP error statuses are not errors here.
func (t *transport) send(ctx context.Context, r request) (*http.Response, error) {
	var body io.Reader
	ctype := ""
	switch b := r.body.(type) {
	case nil:
	case io.Reader:
		body, ctype = b, "application/octet-stream"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %v", r.method, r.path, err)
		}
		body, ctype = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, t.base+r.path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", r.method, r.path, err)
	}
	req.Header.Set("User-Agent", "incus-fleet")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var mismatch *PinMismatchError
		if errors.As(err, &mismatch) {
			return nil, mismatch
		}
		var cve *tls.CertificateVerificationError
		if t.pin != "" && errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
			// Nothing but the pinned certificate chains to our pool.
			got := sha256.Sum256(cve.UnverifiedCertificates[0].Raw)
			return nil, &PinMismatchError{Address: t.where, Want: t.pin, Got: hex.EncodeToString(got[:])}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%s %s: Incus at %s did not answer within %s: %w", r.method, r.path, t.where, t.hc.Timeout, ErrTimeout)
		}
		return nil, fmt.Errorf("%s %s: cannot reach Incus at %s (%v): %w", r.method, r.path, t.where, err, ErrUnreachable)
	}
	return resp, nil
}

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

// Requests is the number of Incus API requests this client has made.
func (c *Client) Requests() int64 { return c.requests.Load() }
