package composeload

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestNetworksDefaultWhenNoneListed(t *testing.T) {
	st := mustLoad(t, "services:\n  web:\n    image: busybox\n")
	if want := []model.Network{{Name: "default"}}; !reflect.DeepEqual(st.Networks, want) {
		t.Errorf("networks %+v, want %+v", st.Networks, want)
	}
	if want := []model.ServiceNetwork{{Network: "default"}}; !reflect.DeepEqual(st.Services[0].Networks, want) {
		t.Errorf("web joins %+v", st.Services[0].Networks)
	}
}

func TestNetworksMapping(t *testing.T) {
	st := mustLoad(t, `services:
  api:
    image: busybox
    networks:
      back:
        aliases: [db-client, api-internal]
      edge: {}
  db:
    image: busybox
    networks: [back]
networks:
  back:
    driver: macvlan
    driver_opts: {parent: eth9}
    internal: true
    ipam:
      config: [{subnet: 10.20.0.0/24, gateway: 10.20.0.254}]
  edge:
    external: true
    name: lan0
  unused: {}
`)
	want := []model.Network{
		{Name: "back", Subnets: []string{"10.20.0.0/24"}, Gateway: "10.20.0.254", Internal: true, Driver: "macvlan", DriverOpts: map[string]string{"parent": "eth9"}},
		{Name: "edge", Existing: "lan0"},
	}
	if !reflect.DeepEqual(st.Networks, want) {
		t.Errorf("networks\n%+v\nwant\n%+v", st.Networks, want)
	}
	if want := []model.ServiceNetwork{{Network: "back", Aliases: []string{"api-internal", "db-client"}}, {Network: "edge"}}; !reflect.DeepEqual(st.Services[0].Networks, want) {
		t.Errorf("api joins %+v", st.Services[0].Networks)
	}
	w := strings.Join(st.Warnings, "\n")
	for _, s := range []string{`driver "macvlan" has no meaning`, "driver_opts [parent]"} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings lack %q:\n%s", s, w)
		}
	}
}

func TestNetworksChangeTheHash(t *testing.T) {
	a := mustLoad(t, "services:\n  web:\n    image: busybox\n    networks: [a]\nnetworks:\n  a: {}\n  b: {}\n")
	b := mustLoad(t, "services:\n  web:\n    image: busybox\n    networks: [b]\nnetworks:\n  a: {}\n  b: {}\n")
	if a.Services[0].Hash == b.Services[0].Hash {
		t.Error("moving a service to another network does not change its hash")
	}
}

func TestNetworksBadInput(t *testing.T) {
	for name, yaml := range map[string]string{
		"undeclared": "services:\n  web:\n    image: busybox\n    networks: [nowhere]\n",
		"overlap":    "services:\n  web:\n    image: busybox\n    networks: [a, b]\nnetworks:\n  a:\n    ipam:\n      config: [{subnet: 10.1.0.0/16}]\n  b:\n    ipam:\n      config: [{subnet: 10.1.2.0/24}]\n",
		"bad subnet": "services:\n  web:\n    image: busybox\n    networks: [a]\nnetworks:\n  a:\n    ipam:\n      config: [{subnet: 10.1.0.0/33}]\n",
	} {
		_, err := loadInline(t, yaml)
		var cerr *Error
		if !errors.As(err, &cerr) {
			t.Errorf("%s: err %v, want a compose error", name, err)
		}
	}
}

func TestTopLevelNetworkChangesTheHash(t *testing.T) {
	a := mustLoad(t, "services:\n  web:\n    image: busybox\n    networks: [a]\nnetworks:\n  a:\n    external: true\n    name: lan1\n")
	b := mustLoad(t, "services:\n  web:\n    image: busybox\n    networks: [a]\nnetworks:\n  a:\n    external: true\n    name: lan2\n")
	if a.Services[0].Hash == b.Services[0].Hash {
		t.Error("selecting another Incus network does not change the hash of the services on it")
	}
}

// A bundle's compose file carries compose-go's derived <project>_<key>
// names; they select nothing.
func TestDerivedNetworkNameIsNotExternal(t *testing.T) {
	st := mustLoad(t, "services:\n  web:\n    image: busybox\nnetworks:\n  default:\n    name: 003_default\n")
	if st.Networks[0].Existing != "" {
		t.Errorf("derived name taken as an existing network: %+v", st.Networks)
	}
}

func TestNetworkModeNoneJoinsNothing(t *testing.T) {
	st := mustLoad(t, "services:\n  batch:\n    image: busybox\n    network_mode: none\n  web:\n    image: busybox\n")
	if len(st.Service("batch").Networks) != 0 || len(st.Service("web").Networks) != 1 {
		t.Errorf("batch joins %+v, web %+v", st.Service("batch").Networks, st.Service("web").Networks)
	}
}
