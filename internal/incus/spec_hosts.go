package incus

import (
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// HostsFile renders /etc/hosts for a service with extra_hosts: the usual
// loopback lines, then one line per entry, as Docker writes it. It is
// pushed into every instance like a support file; ok is false when the
// service adds no entries (the image's /etc/hosts stays).
func HostsFile(svc *model.Service) (f model.File, ok bool) {
	if len(svc.Runtime.ExtraHosts) == 0 {
		return model.File{}, false
	}
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, h := range svc.Runtime.ExtraHosts {
		fmt.Fprintf(&b, "%s\t%s\n", h.Address, h.Name)
	}
	return model.File{Target: "/etc/hosts", Mode: 0o644, Content: []byte(b.String()), Source: "extra_hosts"}, true
}
