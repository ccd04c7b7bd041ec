package incus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// testCert issues a certificate for localhost / 127.0.0.1, signed by parent
// (self-signed when parent is nil); isCA makes it a CA.
func testCert(t *testing.T, cn string, parent *tls.Certificate, isCA bool) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        isCA, BasicConstraintsValid: true,
	}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		signer, signerKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func certPEM(c tls.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}))
}

// fakeIncus answers GET /1.0 like a trusting Incus server, presenting the
// certificate pick returns for each handshake.
func fakeIncus(t *testing.T, pick func() tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type":"sync","status_code":200,"metadata":{"auth":"trusted","environment":{"server_name":"fake"}}}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	// Our own TLS listener: httptest's would present its built-in
	// certificate to clients that send no server name.
	srv.Listener = tls.NewListener(srv.Listener, &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		c := pick()
		return &c, nil
	}})
	srv.Start()
	srv.URL = strings.Replace(srv.URL, "http://", "https://", 1)
	t.Cleanup(srv.Close)
	return srv
}

// trustedCA is a CA in this test process's system trust store: TestMain
// points SSL_CERT_FILE at it before anything loads the system roots.
var trustedCA tls.Certificate

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "incus-tls-test")
	if err != nil {
		panic(err)
	}
	trustedCA = testCert(nil, "test CA", nil, true)
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, []byte(certPEM(trustedCA)), 0o600); err != nil {
		panic(err)
	}
	os.Setenv("SSL_CERT_FILE", file)
	os.Setenv("SSL_CERT_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// trustCA checks a default HTTPS client trusts certificates the CA issued,
// so the refusals below are the pin's doing.
func trustCA(t *testing.T, _ tls.Certificate, probe *httptest.Server) {
	t.Helper()
	resp, err := (&http.Client{Transport: &http.Transport{}}).Get(probe.URL + "/1.0")
	if err != nil {
		t.Fatalf("the test CA is not in the trust store, so the test proves nothing: %v", err)
	}
	resp.Body.Close()
}

// Issue 13: a pinned connection trusts exactly the pinned certificate. A
// server presenting a certificate from a CA in the trust store, under the
// right host name, is refused, naming both fingerprints.
func TestPinnedServerCertRefusesCATrustedCertificate(t *testing.T) {
	ca := trustedCA
	issued := testCert(t, "localhost", &ca, false)
	pinned := testCert(t, "the real member", nil, false)
	srv := fakeIncus(t, func() tls.Certificate { return issued })
	trustCA(t, ca, srv)

	_, err := Connect(context.Background(), Options{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), ServerCert: certPEM(pinned)})
	checkPinRefused(t, err, cluster.Fingerprint(pinned.Certificate[0]), cluster.Fingerprint(issued.Certificate[0]))
}

// Issue 13: the same with a fingerprint pin, from a server that shows the
// pinned certificate on the first handshake and a CA-issued one after.
func TestPinnedFingerprintRefusesCATrustedCertificate(t *testing.T) {
	ca := trustedCA
	issued := testCert(t, "localhost", &ca, false)
	pinned := testCert(t, "the real member", nil, false)
	var handshakes atomic.Int64
	srv := fakeIncus(t, func() tls.Certificate {
		if handshakes.Add(1) == 1 {
			return pinned
		}
		return issued
	})
	handshakes.Store(1) // the probe gets the CA-issued certificate
	trustCA(t, ca, srv)
	handshakes.Store(0)

	_, err := Connect(context.Background(), Options{URL: srv.URL, ServerFingerprint: cluster.Fingerprint(pinned.Certificate[0])})
	checkPinRefused(t, err, cluster.Fingerprint(pinned.Certificate[0]), cluster.Fingerprint(issued.Certificate[0]))
}

func checkPinRefused(t *testing.T, err error, want, got string) {
	t.Helper()
	if err == nil {
		t.Fatal("a certificate other than the pinned one was accepted")
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("want cluster unreachable, got %v", err)
	}
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), got) {
		t.Errorf("the error must name both fingerprints (pinned %s, presented %s): %v", want, got, err)
	}
}

// The pinned certificate itself is accepted, by certificate and by
// fingerprint.
func TestPinnedConnectionAcceptsThePinnedCertificate(t *testing.T) {
	pinned := testCert(t, "the real member", nil, false)
	srv := fakeIncus(t, func() tls.Certificate { return pinned })
	if _, err := Connect(context.Background(), Options{URL: srv.URL, ServerCert: certPEM(pinned)}); err != nil {
		t.Errorf("pinned by certificate: %v", err)
	}
	if _, err := Connect(context.Background(), Options{URL: srv.URL, ServerFingerprint: cluster.Fingerprint(pinned.Certificate[0])}); err != nil {
		t.Errorf("pinned by fingerprint: %v", err)
	}
}

// Issue 13: a client key that is neither PEM nor a readable file is
// reported naming the field, never quoting the value.
func TestBadClientKeyIsNotQuoted(t *testing.T) {
	pair, err := cluster.GenerateClientCert("t", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"s3cr3t-key-material-XYZ", "MHcCAQEEIBs3cr3tKeyBodyWithoutHeaders\nAoGCCqGSM49AwEHoUQDQgAE"} {
		_, err := Connect(context.Background(), Options{URL: "https://127.0.0.1:1", ClientCert: pair.CertPEM, ClientKey: key})
		if err == nil {
			t.Fatal("a bad key was accepted")
		}
		for _, part := range strings.Split(key, "\n") {
			if strings.Contains(err.Error(), part) {
				t.Errorf("the error quotes the key: %v", err)
			}
		}
		if !strings.Contains(err.Error(), "connection.client_key") {
			t.Errorf("the error does not name the field: %v", err)
		}
	}
}
