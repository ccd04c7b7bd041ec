package incus

import (
	"reflect"
	"testing"
)

func nicState(addrs map[string]string) *netState {
	st := &netState{Status: "Running", Network: map[string]instanceNICState{}}
	for nic, ip := range addrs {
		var s instanceNICState
		s.Addresses = append(s.Addresses, struct {
			Family  string `json:"family"`
			Address string `json:"address"`
			Scope   string `json:"scope"`
		}{"inet", ip, "global"})
		st.Network[nic] = s
	}
	return st
}

// An update that moves a service from one network to two (OVN: one NIC
// per network): the old replica, still running with its one NIC on
// `front`, must be published on `front` only, at its own address, not
// mapped with the new layout (eth0=back, eth1=front), which put it on
// the wrong network.
func TestEndpointReadsTheInstancesOwnNICLayout(t *testing.T) {
	newLayout := []NIC{{Name: "eth0", Networks: []string{"back"}}, {Name: "eth1", Networks: []string{"front"}}}
	old := instanceFull{Name: "api-1", Status: "Running",
		Config: map[string]string{KeyNICs: EncodeNICs([]NIC{{Name: "eth0", Networks: []string{"front"}}})},
		State:  nicState(map[string]string{"eth0": "10.1.0.5"})}
	got := endpointOf(old, "api", newLayout).Addrs
	if want := map[string]string{"front": "10.1.0.5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("old replica published as %v, want %v", got, want)
	}
	fresh := instanceFull{Name: "api-1-b", Status: "Running",
		Config: map[string]string{KeyNICs: EncodeNICs(newLayout)},
		State:  nicState(map[string]string{"eth0": "10.2.0.7", "eth1": "10.1.0.8"})}
	got = endpointOf(fresh, "api", newLayout).Addrs
	if want := map[string]string{"back": "10.2.0.7", "front": "10.1.0.8"}; !reflect.DeepEqual(got, want) {
		t.Errorf("new replica published as %v, want %v", got, want)
	}
	// Created before the layout was recorded: the plan's layout.
	legacy := instanceFull{Name: "api-2", Status: "Running", Config: map[string]string{},
		State: nicState(map[string]string{"eth0": "10.2.0.9"})}
	if got := endpointOf(legacy, "api", newLayout).Addrs; !reflect.DeepEqual(got, map[string]string{"back": "10.2.0.9"}) {
		t.Errorf("legacy replica published as %v", got)
	}
}

func TestNICLayoutRoundTrip(t *testing.T) {
	nics := []NIC{{Name: "eth0", Networks: []string{"back", "default"}}, {Name: "eth1", Networks: []string{"edge"}}}
	enc := EncodeNICs(nics)
	if enc != "eth0=back,default;eth1=edge" {
		t.Errorf("encoded %q", enc)
	}
	if got := decodeNICs(enc); !reflect.DeepEqual(got, nics) {
		t.Errorf("decoded %v", got)
	}
	if got := decodeNICs(""); len(got) != 0 {
		t.Errorf("empty decodes to %v", got)
	}
}
