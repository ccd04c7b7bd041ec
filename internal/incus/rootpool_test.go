package incus

import "testing"

func TestRootDiskPool(t *testing.T) {
	cases := []struct {
		name    string
		devices map[string]map[string]string
		want    string
	}{
		{"conventional", map[string]map[string]string{"root": {"type": "disk", "path": "/", "pool": "local"}}, "local"},
		{"any device name", map[string]map[string]string{
			"data": {"type": "disk", "path": "/srv", "pool": "other"},
			"sys":  {"type": "disk", "path": "/", "pool": "remote"},
			"eth0": {"type": "nic", "network": "br0"},
		}, "remote"},
		{"no root disk", map[string]map[string]string{"data": {"type": "disk", "path": "/srv", "pool": "other"}}, ""},
		{"no devices", nil, ""},
	}
	for _, tc := range cases {
		p := &Profile{Devices: tc.devices}
		if got := rootDiskPool(p); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
