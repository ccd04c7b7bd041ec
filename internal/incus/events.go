package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Event is one Incus lifecycle event, reduced to what a watcher needs.
type Event struct {
	Action   string // e.g. cluster-member-added, instance-deleted
	Name     string // the entity's name, e.g. the member or instance
	Source   string // API path, e.g. /1.0/cluster/members/node4
	Project  string
	Location string // member that emitted it
	Time     time.Time
}

// wireEvent is one message of /1.0/events.
type wireEvent struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Location  string          `json:"location"`
	Project   string          `json:"project"`
	Metadata  json.RawMessage `json:"metadata"`
}

// wireLifecycle is the metadata of a lifecycle event.
type wireLifecycle struct {
	Action  string `json:"action"`
	Source  string `json:"source"`
	Name    string `json:"name"`
	Project string `json:"project"`
}

// decodeEvent turns one websocket message into an Event; ok is false for
// anything that is not a lifecycle event with an action.
func decodeEvent(data []byte) (Event, bool) {
	var e wireEvent
	if json.Unmarshal(data, &e) != nil || e.Type != "lifecycle" {
		return Event{}, false
	}
	var lc wireLifecycle
	if json.Unmarshal(e.Metadata, &lc) != nil || lc.Action == "" {
		return Event{}, false
	}
	project := lc.Project
	if project == "" {
		project = e.Project
	}
	return Event{Action: lc.Action, Name: lc.Name, Source: lc.Source, Project: project, Location: e.Location, Time: e.Timestamp}, true
}

// EventStream is a live subscription to the cluster's lifecycle events.
type EventStream struct {
	conn *websocket.Conn
	done chan error
	once sync.Once
}

// eventsPath asks for the lifecycle events of every project.
const eventsPath = "/1.0/events?type=lifecycle&all-projects=true"

// SubscribeEvents starts delivering the lifecycle events of all projects
// to fn; once it returns, no later event is missed. Any member relays the
// whole cluster's events, so one connection is enough. fn runs on the
// stream's reader goroutine: it must be quick. A broken stream ends Wait
// with ErrUnreachable; the caller reconnects with backoff (stack watch
// does, and re-reads the cluster after each reconnect).
func (c *Client) SubscribeEvents(fn func(Event)) (*EventStream, error) {
	conn, err := c.dialWebsocket(context.Background(), eventsPath)
	if err != nil {
		return nil, fmt.Errorf("listen to Incus events: %v: %w", err, ErrUnreachable)
	}
	s := &EventStream{conn: conn, done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				s.done <- err
				return
			}
			if ev, ok := decodeEvent(data); ok {
				fn(ev)
			}
		}
	}()
	return s, nil
}

// Wait blocks until ctx ends (nil; the subscription is closed) or the
// stream breaks (an ErrUnreachable error; subscribe again, on a new Client
// if the server went away).
func (s *EventStream) Wait(ctx context.Context) error {
	defer s.Close()
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.done:
		return fmt.Errorf("event stream from Incus closed: %v: %w", err, ErrUnreachable)
	}
}

// Close ends the subscription.
func (s *EventStream) Close() {
	s.once.Do(func() {
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = s.conn.Close()
	})
}

// dialWebsocket opens a websocket on the same transport as the API calls:
// the unix socket, or HTTPS with the same (pinned) TLS configuration.
func (c *Client) dialWebsocket(ctx context.Context, path string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: pinDialTimeout}
	target := ""
	if c.t.socket != "" {
		socket := c.t.socket
		d.NetDialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "unix", socket)
		}
		target = "ws://incus" + path
	} else {
		u, err := url.Parse(c.t.base)
		if err != nil {
			return nil, err
		}
		d.TLSClientConfig = c.t.tls.Clone()
		target = "wss://" + u.Host + path
	}
	c.requests.Add(1)
	totalRequests.Add(1)
	conn, resp, err := d.DialContext(ctx, target, http.Header{"User-Agent": {"incus-fleet"}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%s: HTTP %d", strings.SplitN(path, "?", 2)[0], resp.StatusCode)
		}
		return nil, err
	}
	return conn, nil
}

// Members lists the cluster members (one API call), for watchers that poll
// member status: Incus emits no event when a member stops answering.
func (c *Client) Members() ([]model.Member, error) {
	return c.members(context.Background())
}
