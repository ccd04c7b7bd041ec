package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// execStreamPost is POST /1.0/instances/{name}/exec with websockets: one
// per stream (0 stdin, 1 stdout, 2 stderr) plus control.
type execStreamPost struct {
	Command          []string `json:"command"`
	WaitForWebsocket bool     `json:"wait-for-websocket"`
	Interactive      bool     `json:"interactive"`
}

// ExecStream runs argv in an instance with its stdout and stderr copied to
// the writers as they come and stdin (nil: none) fed to it; it returns the
// exit code. No terminal: output keeps its two streams. Incus forwards the
// operation's websockets to the member running the instance.
func (c *Client) ExecStream(ctx context.Context, stack, name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	what := "exec in " + name
	op, err := c.startOp(ctx, http.MethodPost, "/instances/"+url.PathEscape(name)+"/exec", Scope{Project: stack},
		execStreamPost{Command: argv, WaitForWebsocket: true})
	if err != nil {
		return -1, classify(err, "%s", what)
	}
	var fds map[string]string
	if err := json.Unmarshal(op.Metadata["fds"], &fds); err != nil || fds["1"] == "" {
		return -1, fmt.Errorf("%s: Incus gave no output websockets (%v)", what, err)
	}
	dial := func(fd string) (*websocket.Conn, error) {
		q := url.Values{"secret": {fds[fd]}}
		if stack != "" {
			q.Set("project", stack)
		}
		return c.dialWebsocket(ctx, "/1.0/operations/"+url.PathEscape(op.ID)+"/websocket?"+q.Encode())
	}
	// Incus starts the command once every websocket is connected.
	conns := map[string]*websocket.Conn{}
	for _, fd := range []string{"control", "0", "1", "2"} {
		conn, err := dial(fd)
		if err != nil {
			for _, open := range conns {
				open.Close()
			}
			c.cancelOp(op.ID)
			return -1, fmt.Errorf("%s: connect stream %s: %v: %w", what, fd, err, ErrUnreachable)
		}
		conns[fd] = conn
	}
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	go feedStdin(conns["0"], stdin)
	var wg sync.WaitGroup
	for fd, w := range map[string]io.Writer{"1": stdout, "2": stderr} {
		wg.Add(1)
		go func(conn *websocket.Conn, w io.Writer) {
			defer wg.Done()
			copyFromWebsocket(conn, w)
		}(conns[fd], w)
	}
	done, err := c.waitOp(ctx, op.ID, 24*time.Hour, what)
	if err != nil {
		return -1, err
	}
	wg.Wait() // Incus closes the output streams once the command has ended
	return exitCode(done, name)
}

// feedStdin sends stdin as binary messages, then closes the stream: the
// command reads end of input.
func feedStdin(conn *websocket.Conn, in io.Reader) {
	if in != nil {
		buf := make([]byte, 32<<10)
		for {
			n, err := in.Read(buf)
			if n > 0 && conn.WriteMessage(websocket.BinaryMessage, buf[:n]) != nil {
				return
			}
			if err != nil {
				break
			}
		}
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

// copyFromWebsocket copies binary messages to w until the stream ends.
func copyFromWebsocket(conn *websocket.Conn, w io.Writer) {
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if kind == websocket.BinaryMessage || kind == websocket.TextMessage {
			if len(data) == 0 {
				continue
			}
			if _, err := w.Write(data); err != nil {
				return
			}
		}
	}
}
