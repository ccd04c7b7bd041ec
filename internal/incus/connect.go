// Package incus is the only importer of the Incus client: it reads the
// cluster into model types and performs the actions a plan asks for.
package incus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	incusclient "github.com/lxc/incus/v6/client"
)

// Options says how to reach Incus. Empty means the local unix socket.
type Options struct {
	Socket     string
	URL        string
	ClientCert string // PEM or path
	ClientKey  string // PEM or path
	ServerCert string // PEM or path; pins the server certificate
	// CallTimeout bounds every API call and operation wait.
	CallTimeout time.Duration
}

// Client is a connection to one Incus server (any member of a cluster).
type Client struct {
	srv       incusclient.InstanceServer
	clustered bool
	server    string // this server's member name
	arch      string
	timeout   time.Duration
	requests  *atomic.Int64
}

// DefaultCallTimeout bounds API calls when Options.CallTimeout is unset;
// creating an instance from a cached image takes well under it.
const DefaultCallTimeout = 2 * time.Minute

// Connect opens a connection and reads the server's identity.
func Connect(ctx context.Context, o Options) (*Client, error) {
	timeout := o.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	var (
		srv   incusclient.InstanceServer
		err   error
		where string
	)
	requests := &atomic.Int64{}
	args := &incusclient.ConnectionArgs{UserAgent: "incus-fleet", SkipGetEvents: true}
	if o.URL != "" {
		where = o.URL
		if args.TLSClientCert, err = pemOrFile(o.ClientCert); err == nil {
			if args.TLSClientKey, err = pemOrFile(o.ClientKey); err == nil {
				args.TLSServerCert, err = pemOrFile(o.ServerCert)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("connection to %s: %v: %w", where, err, ErrUnreachable)
		}
		srv, err = incusclient.ConnectIncusWithContext(ctx, o.URL, args)
	} else {
		where = socketPath(o.Socket)
		srv, err = incusclient.ConnectIncusUnixWithContext(ctx, where, args)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach Incus at %s (%v); is incusd running? set connection.socket, INCUS_SOCKET or connection.url: %w", where, err, ErrUnreachable)
	}
	if err := countRequests(srv, requests); err != nil {
		return nil, fmt.Errorf("connection to %s: %v: %w", where, err, ErrUnreachable)
	}
	info, _, err := srv.GetServer()
	if err != nil {
		return nil, fmt.Errorf("cannot read server info from %s: %v: %w", where, err, ErrUnreachable)
	}
	c := &Client{srv: srv, clustered: info.Environment.ServerClustered, server: info.Environment.ServerName,
		timeout: timeout, requests: requests}
	if len(info.Environment.Architectures) > 0 {
		c.arch = info.Environment.Architectures[0]
	}
	return c, nil
}

// socketPath follows the Incus client's own lookup order.
func socketPath(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if s := os.Getenv("INCUS_SOCKET"); s != "" {
		return s
	}
	if d := os.Getenv("INCUS_DIR"); d != "" {
		return filepath.Join(d, "unix.socket")
	}
	return "/var/lib/incus/unix.socket"
}

// pemOrFile accepts inline PEM or a path to a PEM file.
func pemOrFile(v string) (string, error) {
	if v == "" || strings.Contains(v, "-----BEGIN") {
		return v, nil
	}
	data, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", v, err)
	}
	return string(data), nil
}
