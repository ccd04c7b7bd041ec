package integration

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/incus-fleet/incus-fleet/internal/app"
	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// TestRemoteConnectionPinsFingerprint: the protocol reaches a member over
// HTTPS with a client certificate, verifying the server by its pinned
// fingerprint; a wrong pin is refused before anything is sent, and the
// private key never shows in the output.
func TestRemoteConnectionPinsFingerprint(t *testing.T) {
	srv := testbed(t)
	pair, err := cluster.GenerateClientCert("incus-fleet-remote-test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	block := strings.TrimSpace(strings.Split(strings.Split(pair.CertPEM, "-----BEGIN CERTIFICATE-----")[1], "-----END CERTIFICATE-----")[0])
	cert := api.CertificatesPost{CertificatePut: api.CertificatePut{Name: "incus-fleet-remote-test", Type: "client", Certificate: strings.ReplaceAll(block, "\n", "")}}
	if err := srv.CreateCertificate(cert); err != nil {
		t.Fatalf("trust the test client certificate: %v", err)
	}
	t.Cleanup(func() { _ = srv.DeleteCertificate(pair.Fingerprint) })
	info, _, err := srv.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	remote := func(fingerprint string) response {
		req, _ := json.Marshal(map[string]any{"version": 1, "action": "cluster.status", "connection": map[string]any{
			"url": "https://" + info.Config["core.https_address"], "client_cert": pair.CertPEM, "client_key": pair.Key.Reveal(),
			"server_fingerprint": fingerprint}})
		var out, errOut bytes.Buffer
		code := app.Main([]string{"incus-fleet", "call"}, bytes.NewReader(req), &out, &errOut)
		r := response{Exit: code, Raw: out.Bytes(), Stderr: errOut.String()}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("not JSON: %s", out.String())
		}
		if strings.Contains(out.String()+errOut.String(), "PRIVATE KEY") {
			t.Fatal("the private key reached the output")
		}
		return r
	}
	r := remote(info.Environment.CertificateFingerprint).mustSucceed(t)
	if !strings.Contains(r.Comment, "members online") {
		t.Errorf("status over HTTPS: %s", r.Raw)
	}
	wrong := strings.Repeat("ab", 32)
	r = remote(wrong)
	if r.Exit != 1 || r.Error == nil || r.Error.Code != "cluster_unreachable" || !strings.Contains(r.Error.Message, "pinned fingerprint") {
		t.Errorf("a wrong pin must be refused as cluster_unreachable naming the pin: %s", r.Raw)
	}
}
