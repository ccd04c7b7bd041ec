// Package incus is our own small client of the Incus REST API: the only
// package that speaks to Incus. It reads the cluster into model types and
// performs the actions a plan asks for.
package incus

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// Options says how to reach Incus. Empty means the local unix socket.
type Options struct {
	Socket     string
	URL        string
	ClientCert string // PEM or path
	ClientKey  string // PEM or path
	ServerCert string // PEM or path; pins the server certificate (exclusively)
	// ServerFingerprint pins the server certificate by its sha256 (hex):
	// only a server presenting exactly that certificate is spoken to.
	ServerFingerprint string
	// CallTimeout bounds every API call and operation wait.
	CallTimeout time.Duration
}

// Client is a connection to one Incus server (any member of a cluster).
type Client struct {
	t         *transport
	clustered bool
	server    string // this server's member name
	arch      string
	timeout   time.Duration
	requests  *atomic.Int64
	oci       ociRegistry // image_oci.go

	guardMu sync.Mutex
	guards  []*Lock // held stack locks: no change once one is lost
}

// DefaultCallTimeout bounds API calls when Options.CallTimeout is unset;
// creating an instance from a cached image takes well under it.
const DefaultCallTimeout = 2 * time.Minute

// serverInfo is GET /1.0: the server's config and identity.
type serverInfo struct {
	Auth          string            `json:"auth"`
	APIExtensions []string          `json:"api_extensions"`
	Config        map[string]string `json:"config"`
	Environment   struct {
		ServerVersion          string   `json:"server_version"`
		Architectures          []string `json:"architectures"`
		CertificateFingerprint string   `json:"certificate_fingerprint"`
		ServerClustered        bool     `json:"server_clustered"`
		ServerName             string   `json:"server_name"`
	} `json:"environment"`
}

// Connect opens a connection and reads the server's identity.
func Connect(ctx context.Context, o Options) (*Client, error) {
	timeout := o.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	requests := &atomic.Int64{}
	var t *transport
	if o.URL != "" {
		setup, err := httpsConfig(ctx, o)
		if err != nil {
			return nil, err
		}
		conf, err := setup.config()
		if err != nil {
			return nil, err
		}
		t = newHTTPSTransport(o.URL, conf, requests)
		t.pin = setup.want
	} else {
		t = newUnixTransport(socketPath(o.Socket), requests)
	}
	c := &Client{t: t, timeout: timeout, requests: requests}
	t.guard = c.guard // re-sends check the stack lock again
	if err := c.refresh(ctx); err != nil {
		if t.socket != "" {
			return nil, fmt.Errorf("cannot reach Incus at %s (%v); is incusd running? set connection.socket, INCUS_SOCKET or connection.url: %w",
				t.where, err, ErrUnreachable)
		}
		return nil, fmt.Errorf("cannot read server info from %s: %w", t.where, err)
	}
	return c, nil
}

// httpsConfig builds the TLS side of a connection.url: the client
// certificate pair, and the server pin (certificate or fingerprint).
func httpsConfig(ctx context.Context, o Options) (*tlsSetup, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("connection.url %q is not an https://HOST[:PORT] URL: %w", o.URL, ErrUnreachable)
	}
	addr := u.Host
	if u.Port() == "" {
		addr += ":8443"
	}
	setup := &tlsSetup{}
	if o.ClientCert != "" || o.ClientKey != "" {
		if setup.clientCert, err = loadCertificate("connection.client_cert", o.ClientCert); err != nil {
			return nil, fmt.Errorf("%v: %w", err, ErrUnreachable)
		}
		key, err := loadKey("connection.client_key", cluster.NewSecret(o.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("%v: %w", err, ErrUnreachable)
		}
		setup.clientKey = key
	}
	switch {
	case o.ServerFingerprint != "":
		// The pinned certificate is fetched under the pin first, so the
		// real connection can trust exactly that one certificate.
		if setup.serverCert, err = FetchPinnedCertificate(ctx, addr, o.ServerFingerprint); err != nil {
			return nil, err
		}
		setup.fingerprint = o.ServerFingerprint
	case o.ServerCert != "":
		if setup.serverCert, err = loadCertificate("connection.server_cert", o.ServerCert); err != nil {
			return nil, fmt.Errorf("%v: %w", err, ErrUnreachable)
		}
	}
	setup.address = addr
	return setup, nil
}

// refresh re-reads the server's identity (after it joined or left a cluster).
func (c *Client) refresh(ctx context.Context) error {
	info, _, err := c.serverInfo(ctx)
	if err != nil {
		return err
	}
	c.clustered, c.server = info.Environment.ServerClustered, info.Environment.ServerName
	if len(info.Environment.Architectures) > 0 {
		c.arch = info.Environment.Architectures[0]
	}
	return nil
}

func (c *Client) serverInfo(ctx context.Context) (*serverInfo, string, error) {
	var info serverInfo
	etag, err := c.call(ctx, http.MethodGet, "", Scope{}, nil, &info)
	if err != nil {
		return nil, "", classify(err, "read server info")
	}
	return &info, etag, nil
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
