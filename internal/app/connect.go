package app

import (
	"context"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func connect(ctx context.Context, req *protocol.Request) (*incus.Client, error) {
	o := incus.Options{}
	if c := req.Connection; c != nil {
		o = incus.Options{Socket: c.Socket, URL: c.URL, ClientCert: c.ClientCert, ClientKey: c.ClientKey, ServerCert: c.ServerCert}
		if c.ServerFingerprint != "" {
			return nil, protocol.Invalid("connection.server_fingerprint", "fingerprint pinning is not implemented yet; pass the server certificate as connection.server_cert")
		}
	}
	return incus.Connect(ctx, o)
}
