package composeload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestBadHostNamesAreRefused: an alias, extra_hosts name or address, or
// hostname that is not a host name / IP address is compose_invalid naming
// the service and the key (a newline in an alias must never reach a hosts
// file). The fixture holds one fault per service; each is loaded alone.
func TestBadHostNamesAreRefused(t *testing.T) {
	dir, _ := filepath.Abs("testdata/badnames")
	tests := []struct{ service, field, text string }{
		{"alias", "services.alias.networks.back.aliases", `is not a valid host name`},
		{"extra-name", "services.extra-name.extra_hosts", `name "bad name" is not a valid host name`},
		{"extra-addr", "services.extra-addr.extra_hosts.x", `address "not-an-ip" is not an IP address`},
		{"host", "services.host.hostname", `"web#1" is not a valid host name`},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			_, err := Load(context.Background(), Options{Name: "test", Files: []string{filepath.Join(dir, "compose.yaml")},
				LookupEnv: noEnv, Services: []string{tt.service}})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Field != tt.field || !strings.Contains(e.Message, tt.text) || !strings.Contains(e.Message, `service "`+tt.service+`"`) {
				t.Errorf("error field %q message %q; want field %q, text %q", e.Field, e.Message, tt.field, tt.text)
			}
		})
	}
}

func TestExtraHostsAddresses(t *testing.T) {
	st := mustLoad(t, `services:
  web:
    image: busybox
    extra_hosts: ["db:192.0.2.5", "v6:[2001:db8::1]", "db.example.org=192.0.2.6", "db_primary:192.0.2.7"]
    networks:
      default:
        aliases: [web_front]
`)
	want := []model.HostEntry{{Name: "db", Address: "192.0.2.5"}, {Name: "db.example.org", Address: "192.0.2.6"}, {Name: "db_primary", Address: "192.0.2.7"}, {Name: "v6", Address: "2001:db8::1"}}
	got := st.Services[0].Runtime.ExtraHosts
	if len(got) != len(want) {
		t.Fatalf("extra hosts %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("extra host %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestDroppedNetworkKeysAreNamed: ip_range, aux_addresses, enable_ipv6, a
// second subnet of one family and links aliases used to vanish silently.
func TestDroppedNetworkKeysAreNamed(t *testing.T) {
	yaml, err := os.ReadFile("testdata/netkeys/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st := mustLoad(t, string(yaml))
	for _, want := range []string{
		`network "back": ipam.config[0].ip_range 10.30.0.128/25 ignored`,
		`network "back": ipam.config[0].aux_addresses [router] ignored`,
		`network "back": ipam subnet 10.31.0.0/24 ignored: an Incus network has one range per address family, and 10.30.0.0/24 is used`,
		`network "back": enable_ipv6 ignored`,
		`service "web": links alias "database" (for "db") is not supported on Incus`,
	} {
		if !strings.Contains(strings.Join(st.Warnings, "\n"), want) {
			t.Errorf("no warning %q in:\n%s", want, strings.Join(st.Warnings, "\n"))
		}
	}
	n := st.Network("back")
	if n == nil || strings.Join(n.Subnets, ",") != "10.30.0.0/24,fd00:30::/64" {
		t.Errorf("back = %+v, want the first IPv4 and the first IPv6 subnet only", n)
	}
}
