package incus

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// ClusterAccess is how a joining member reaches an existing one: its URL,
// the fleet client certificate pair and the pinned cluster certificate
// fingerprint (lower-case hex).
type ClusterAccess struct {
	URL         string
	ClientCert  string         // PEM or path
	ClientKey   cluster.Secret // PEM or path
	Fingerprint string
}

// HostPort turns an https URL into the host:port Incus calls an address,
// with Incus's default port.
func HostPort(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%q is not an https://HOST[:PORT] URL", rawURL)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "8443"), nil
	}
	return u.Host, nil
}

// ConnectCluster connects to an existing member with the fleet client
// certificate after fetching its certificate under the pin, and checks the
// member trusts us and is clustered. It returns the cluster certificate
// (PEM) the joining daemon must expect.
func ConnectCluster(ctx context.Context, a ClusterAccess) (*Client, string, error) {
	addr, err := HostPort(a.URL)
	if err != nil {
		return nil, "", err
	}
	certPEM, err := FetchPinnedCertificate(ctx, addr, a.Fingerprint)
	if err != nil {
		return nil, "", err
	}
	clientCert, err := loadCertificate("trust.client_cert", a.ClientCert)
	if err != nil {
		return nil, "", err
	}
	clientKey, err := loadKey("trust.client_key", a.ClientKey)
	if err != nil {
		return nil, "", err
	}
	setup := &tlsSetup{address: addr, clientCert: clientCert, clientKey: clientKey, serverCert: certPEM, fingerprint: a.Fingerprint}
	conf, err := setup.config()
	if err != nil {
		return nil, "", scrub(fmt.Errorf("trust.client_cert / client_key: %w", err), clientKey)
	}
	requests := &atomic.Int64{}
	t := newHTTPSTransport("https://"+addr, conf, requests)
	t.pin = setup.want
	c := &Client{t: t, timeout: DefaultCallTimeout, requests: requests}
	t.guard = c.guard // re-sends check the stack lock again
	info, _, err := c.serverInfo(ctx)
	if err != nil {
		return nil, "", scrub(fmt.Errorf("cannot read server info from %s with the fleet client certificate: %w", a.URL, err), clientKey)
	}
	if info.Auth != "trusted" {
		return nil, "", fmt.Errorf("%s does not trust the fleet client certificate (sha256 %s): give that certificate as trust.client_cert "+
			"when bootstrapping the cluster, or add it on any member with `incus config trust add-certificate FILE`, "+
			"and check trust.client_cert/client_key are that pair: %w", a.URL, certFingerprint(clientCert), ErrUnreachable)
	}
	if !info.Environment.ServerClustered {
		return nil, "", fmt.Errorf("%s is not part of a cluster: bootstrap it first (cluster.member.present without `cluster`) "+
			"or point `cluster` at an existing member: %w", a.URL, ErrNotFound)
	}
	c.clustered, c.server = true, info.Environment.ServerName
	if len(info.Environment.Architectures) > 0 {
		c.arch = info.Environment.Architectures[0]
	}
	return c, certPEM, nil
}

// certFingerprint is a PEM certificate's fingerprint, or "unknown" when it
// does not parse (the TLS layer has rejected it by then anyway).
func certFingerprint(certPEM string) string {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		return "unknown"
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return "unknown"
	}
	return cluster.Fingerprint(block.Bytes)
}
