package incus

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// FleetCertName is the name the fleet client certificate gets in the
// server's trust store.
const FleetCertName = "incus-fleet"

// ClientCertificate is a client certificate to trust: its PEM and sha256
// fingerprint.
type ClientCertificate struct {
	PEM         string
	Fingerprint string
}

// LoadClientCertificate reads a certificate given inline or as a path.
func LoadClientCertificate(field, v string) (ClientCertificate, error) {
	text, err := loadCertificate(field, v)
	if err != nil {
		return ClientCertificate{}, err
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		return ClientCertificate{}, fmt.Errorf("%s: no PEM CERTIFICATE block", field)
	}
	return ClientCertificate{PEM: text, Fingerprint: cluster.Fingerprint(block.Bytes)}, nil
}

// CertificatesPost is POST /1.0/certificates: a certificate to trust
// (base64 DER, no PEM armour).
type CertificatesPost struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Certificate string `json:"certificate"`
}

// Trusts reports whether the server trusts a certificate.
func (c *Client) Trusts(fingerprint string) (bool, error) {
	var urls []string
	if _, err := c.call(context.Background(), http.MethodGet, "/certificates", Scope{}, nil, &urls); err != nil {
		return false, classify(err, "list trusted certificates")
	}
	return slices.Contains(namesFromURLs(urls), fingerprint), nil
}

// Trust adds a client certificate to the server's trust store.
func (c *Client) Trust(cert ClientCertificate) error {
	block, _ := pem.Decode([]byte(cert.PEM))
	_, err := c.call(context.Background(), http.MethodPost, "/certificates", Scope{}, CertificatesPost{Name: FleetCertName, Type: "client",
		Certificate: base64.StdEncoding.EncodeToString(block.Bytes)}, nil)
	return classify(err, "trust the fleet client certificate %s", cluster.Short(cert.Fingerprint))
}

// Untrust removes a certificate from the trust store; a certificate that
// is not there counts as removed.
func (c *Client) Untrust(fingerprint string) error {
	_, err := c.call(context.Background(), http.MethodDelete, "/certificates/"+url.PathEscape(fingerprint), Scope{}, nil, nil)
	err = classify(err, "remove trusted certificate %s", cluster.Short(fingerprint))
	if isNotFound(err) {
		return nil
	}
	return err
}
