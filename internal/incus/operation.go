package incus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Operation is an Incus background operation, as /1.0/operations returns it.
type Operation struct {
	ID         string                     `json:"id"`
	Class      string                     `json:"class"`
	Status     string                     `json:"status"`
	StatusCode int                        `json:"status_code"`
	Resources  map[string][]string        `json:"resources"`
	Metadata   map[string]json.RawMessage `json:"metadata"`
	Err        string                     `json:"err"`
	Location   string                     `json:"location"`
}

// Operation status codes Incus uses (shared/api/status_code.go).
const (
	opRunning   = 103
	opSuccess   = 200
	opFailure   = 400
	opCancelled = 401
)

// done reports whether the operation has ended, one way or another.
func (o *Operation) done() bool { return o.StatusCode >= opSuccess }

// opWaitChunk bounds one /wait request, well below the HTTP timeout, so a
// long wait is several requests and a hung daemon still ends in a timeout.
const opWaitChunk = 60 * time.Second

// errOpVanished marks a wait for an operation Incus no longer knows: it
// forgets an operation 5 s after it ended, so a wait that reaches the
// daemon later (an overloaded machine) cannot learn how it ended. Callers
// that can, check the outcome on the object itself.
var errOpVanished = errors.New("operation vanished")

// errOpTimeout marks a wait that ran out of its own limit (the operation
// may still be running in Incus).
var errOpTimeout = errors.New("operation still running")

// waitRanOut recognises how Incus 6.0.4 answers a /wait whose ?timeout=
// passed with the operation still running: an error answer, code 500,
// "context deadline exceeded" (measured, local and forwarded operations).
// It says nothing about the operation, which is asked again.
func waitRanOut(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusInternalServerError && se.Msg == "context deadline exceeded"
}

// waitOp waits for an operation through /1.0/operations/{id}/wait?timeout=,
// at most limit, and returns it once it ended successfully. A failed or
// cancelled operation is an error carrying its message and kind.
func (c *Client) waitOp(ctx context.Context, id string, limit time.Duration, what string) (*Operation, error) {
	return c.waitOpOn(ctx, id, "", limit, what)
}

// waitOpOn is waitOp for an operation started with ?target=: it runs on
// that member, and the wait is sent there too.
func (c *Client) waitOpOn(ctx context.Context, id, target string, limit time.Duration, what string) (*Operation, error) {
	deadline := time.Now().Add(limit)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%s did not finish within %s: %w", what, limit, errors.Join(ErrTimeout, errOpTimeout))
		}
		chunk := min(left, opWaitChunk)
		secs := int((chunk + time.Second - 1) / time.Second)
		q := url.Values{"timeout": {strconv.Itoa(secs)}}
		var op Operation
		_, err := c.call(ctx, http.MethodGet, "/operations/"+url.PathEscape(id)+"/wait", Scope{Target: target, Query: q}, nil, &op)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && (statusIs(err, http.StatusGatewayTimeout, http.StatusRequestTimeout) || waitRanOut(err)):
			continue // the wait itself timed out on the server side
		case err != nil && statusIs(err, http.StatusNotFound):
			return nil, fmt.Errorf("%s: Incus no longer knows operation %s: it ended more than 5 s before the wait reached the daemon "+
				"(is the machine overloaded?), so how it ended is unknown: %w", what, id, errOpVanished)
		case err != nil:
			return nil, classify(err, "%s", what)
		case !op.done():
			continue
		case op.StatusCode == opSuccess:
			return &op, nil
		default:
			return nil, classify(opError(&op), "%s", what)
		}
	}
}

// opError turns a failed operation into an error of the right kind: Incus
// reports "not found" and "already exists" failures only in the message.
func opError(op *Operation) error {
	msg := op.Err
	if msg == "" {
		msg = op.Status
	}
	code := http.StatusInternalServerError
	if op.StatusCode == opCancelled {
		code = http.StatusRequestTimeout
	}
	return &StatusError{Code: code, Msg: msg}
}

// cancelOp asks Incus to cancel an operation; not every one can be.
func (c *Client) cancelOp(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = c.call(ctx, http.MethodDelete, "/operations/"+url.PathEscape(id), Scope{}, nil, nil)
}

// wait waits for an operation started elsewhere within the call timeout.
func (c *Client) wait(ctx context.Context, op *Operation, what string) error {
	_, err := c.waitOp(ctx, op.ID, c.timeout, what)
	return err
}
