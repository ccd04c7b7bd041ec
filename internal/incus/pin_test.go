package incus

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

func TestFetchPinnedCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	fp := cluster.Fingerprint(srv.Certificate().Raw)

	got, err := FetchPinnedCertificate(context.Background(), addr, fp)
	if err != nil {
		t.Fatalf("right pin refused: %v", err)
	}
	block, _ := pem.Decode([]byte(got))
	if block == nil || cluster.Fingerprint(block.Bytes) != fp {
		t.Fatalf("returned PEM is not the pinned certificate: %q", got)
	}

	wrong := strings.Repeat("0", 64)
	_, err = FetchPinnedCertificate(context.Background(), addr, wrong)
	var mismatch *PinMismatchError
	if !errors.As(err, &mismatch) || mismatch.Got != fp || mismatch.Want != wrong || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("wrong pin: err %v", err)
	}
	if !strings.Contains(err.Error(), fp) || !strings.Contains(err.Error(), wrong) {
		t.Fatalf("message names neither fingerprint: %v", err)
	}
}

func TestFetchPinnedCertificateUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = FetchPinnedCertificate(context.Background(), addr, strings.Repeat("a", 64))
	if !errors.Is(err, ErrUnreachable) || errors.As(err, new(*PinMismatchError)) {
		t.Fatalf("closed port: %v", err)
	}
}

func TestFetchPinnedCertificateRejectsBadPin(t *testing.T) {
	if _, err := FetchPinnedCertificate(context.Background(), "127.0.0.1:1", "abc"); err == nil {
		t.Fatal("a malformed pin was accepted")
	}
}
