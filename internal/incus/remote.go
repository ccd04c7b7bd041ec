package incus

import (
	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/cliconfig"
)

// connectImageServer opens a public image server the way the Incus CLI does
// for the remote's protocol.
func connectImageServer(r cliconfig.Remote) (incusclient.ImageServer, error) {
	args := &incusclient.ConnectionArgs{UserAgent: "incus-fleet"}
	switch r.Protocol {
	case "simplestreams":
		return incusclient.ConnectSimpleStreams(r.Addr, args)
	case "oci":
		return incusclient.ConnectOCI(r.Addr, args)
	default:
		return incusclient.ConnectPublicIncus(r.Addr, args)
	}
}
