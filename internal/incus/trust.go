package incus

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"

	"github.com/lxc/incus/v6/shared/api"

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

// Trusts reports whether the server trusts a certificate.
func (c *Client) Trusts(fingerprint string) (bool, error) {
	fps, err := c.srv.GetCertificateFingerprints()
	if err != nil {
		return false, classify(err, "list trusted certificates")
	}
	return slices.Contains(fps, fingerprint), nil
}

// Trust adds a client certificate to the server's trust store.
func (c *Client) Trust(cert ClientCertificate) error {
	block, _ := pem.Decode([]byte(cert.PEM))
	post := api.CertificatesPost{CertificatePut: api.CertificatePut{Name: FleetCertName, Type: api.CertificateTypeClient,
		Certificate: base64.StdEncoding.EncodeToString(block.Bytes)}}
	return classify(c.srv.CreateCertificate(post), "trust the fleet client certificate %s", cluster.Short(cert.Fingerprint))
}

// Untrust removes a certificate from the trust store; a certificate that
// is not there counts as removed.
func (c *Client) Untrust(fingerprint string) error {
	err := classify(c.srv.DeleteCertificate(fingerprint), "remove trusted certificate %s", cluster.Short(fingerprint))
	if isNotFound(err) {
		return nil
	}
	return err
}
