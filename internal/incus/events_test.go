package incus

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

func TestDecodeEvent(t *testing.T) {
	ev, ok := decodeEvent([]byte(`{"type":"lifecycle","timestamp":"2026-12-02T07:00:00Z","location":"node2","project":"shop",` +
		`"metadata":{"action":"instance-deleted","source":"/1.0/instances/web-2?project=shop","name":"web-2"}}`))
	if !ok || ev.Action != "instance-deleted" || ev.Name != "web-2" || ev.Project != "shop" || ev.Location != "node2" || ev.Time.IsZero() {
		t.Fatalf("decoded %+v, ok %v", ev, ok)
	}
	if _, ok := decodeEvent([]byte(`{"type":"logging","metadata":{"message":"x"}}`)); ok {
		t.Error("a logging event was taken for a lifecycle event")
	}
	if _, ok := decodeEvent([]byte(`not json`)); ok {
		t.Error("garbage decoded")
	}
}

// The event stream over HTTPS with a client certificate and an exclusive
// fingerprint pin, against the real daemon: the websocket uses the same
// pinned TLS configuration as the API calls.
func TestEventsOverPinnedHTTPS(t *testing.T) {
	local := bed(t)
	pair, err := cluster.GenerateClientCert("incus-fleet-events-test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := LoadClientCertificate("cert", pair.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.Trust(cert); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = local.Untrust(cert.Fingerprint) })
	cfg, fp, err := local.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	remote, err := Connect(context.Background(), Options{URL: "https://" + cfg["core.https_address"],
		ClientCert: pair.CertPEM, ClientKey: pair.Key.Reveal(), ServerFingerprint: fp})
	if err != nil {
		t.Fatalf("connect over HTTPS with the pin: %v", err)
	}
	got := make(chan Event, 16)
	stream, err := remote.SubscribeEvents(func(e Event) {
		if e.Action == "profile-created" && strings.HasSuffix(strings.SplitN(e.Source, "?", 2)[0], "/profiles/it-events-probe") {
			got <- e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	ctx := context.Background()
	p := Profile{Name: "it-events-probe", Config: map[string]string{}, Devices: map[string]map[string]string{}}
	if _, err := local.call(ctx, http.MethodPost, "/profiles", Scope{}, p, nil); err != nil {
		t.Fatal(err)
	}
	defer local.call(ctx, http.MethodDelete, profilePath("it-events-probe"), Scope{}, nil, nil) //nolint:errcheck
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no profile-created event over the HTTPS event stream")
	}
}
