package app

import (
	"context"
	"net/url"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// decodeAndConnect decodes the request's params into `into`, then connects:
// the start of every handler that acts on one Incus server.
func decodeAndConnect(ctx context.Context, req *protocol.Request, into any) (*incus.Client, error) {
	if err := protocol.DecodeParams(req, into); err != nil {
		return nil, err
	}
	return connect(ctx, req)
}

func connect(ctx context.Context, req *protocol.Request) (*incus.Client, error) {
	c := req.Connection
	if c == nil {
		return incus.Connect(ctx, incus.Options{})
	}
	o := incus.Options{Socket: c.Socket, URL: c.URL, ClientCert: c.ClientCert, ClientKey: c.ClientKey, ServerCert: c.ServerCert}
	if c.ServerFingerprint != "" {
		if c.URL == "" {
			return nil, protocol.Invalid("connection.server_fingerprint", "a fingerprint pins an HTTPS server: set connection.url too")
		}
		if c.ServerCert != "" {
			return nil, protocol.Invalid("connection.server_fingerprint", "give server_fingerprint or server_cert, not both")
		}
		u, err := url.Parse(c.URL)
		if err != nil || u.Host == "" {
			return nil, protocol.Invalid("connection.url", "%q is not an https://host:port URL", c.URL)
		}
		// The pin is exclusive: only a server presenting exactly that
		// certificate is spoken to (no system roots, no CA).
		o.ServerFingerprint = strings.ToLower(strings.ReplaceAll(c.ServerFingerprint, ":", ""))
	}
	return incus.Connect(ctx, o)
}
